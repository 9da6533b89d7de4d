using System.CommandLine;
using System.Text.Json;
using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Metrics;
using SoftmaxGpu.Model;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Cli;

/// <summary>
/// <c>softmaxgpu evaluate</c>: accuracy, log-loss, macro-F1, per-class precision/recall, confusion matrix; with
/// <c>--plot F.png</c> the confusion matrix also as a picture (<see cref="Plots.ConfusionMatrix"/>).
/// </summary>
public static class EvaluateCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "Model file written by train.", Required = true };
        var data = new Option<string>("--data")
        {
            Description = "Labelled data: CSV with the model's feature and label columns, a LIBSVM file (D from the model), a .sgd file (softmaxgpu convert), or an MNIST folder (its t10k files).",
            Required = true,
        };
        var label = new Option<string?>("--label") { Description = "Label column (default: the one the model was trained on)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of the report." };
        var plot = new Option<string?>("--plot") { Description = "Also draw the confusion matrix into this PNG file (multiclass models)." };
        Option<double?> threshold = PredictCommand.ThresholdOption();
        Option<string> device = App.DeviceOption();
        Option<string> format = DataFormatOptions.FormatOption();
        Option<string> separator = DataFormatOptions.SeparatorOption();

        var command = new Command("evaluate", "Measure a trained model on labelled data.")
        {
            model, data, label, json, plot, threshold, device, format, separator,
        };
        command.SetAction(parse => App.Guard(error, () =>
        {
            string? plotPath = parse.GetValue(plot);
            if (plotPath is not null)
                Plots.CheckPath(plotPath);
            OutputPaths.Check([("--plot", plotPath)],
                [("--data", parse.GetValue(data)), ("--model", parse.GetValue(model))]);
            SoftmaxModel trained = ModelFile.Load(parse.GetValue(model)!);
            double cut = PredictCommand.Threshold(trained, parse.GetValue(threshold));
            string dataPath = parse.GetValue(data)!;
            DataFormat dataFormat = DataFormatOptions.FormatOf(parse, format);
            CsvOptions csv = DataFormatOptions.CsvOf(parse, separator);
            DataFormatOptions.WarnIgnored(error, parse, dataPath, dataFormat, separator, label);
            bool asJson = parse.GetValue(json);
            if (trained.Kind.IsMultiLabel())
            {
                if (plotPath is not null)
                    error.WriteLine("warning: --plot draws a confusion matrix, which a multi-label model does not have; no plot is written");
                TagEvaluation tags = EvaluateTags(trained, dataPath, parse.GetValue(label), dataFormat, csv, cut, parse.GetValue(device)!, error);
                output.WriteLine(asJson ? TagJson(tags, trained.Classes, cut) : TagReport(tags, trained.Classes, cut));
                return 0;
            }
            Evaluation evaluation = EvaluateClasses(trained, dataPath, parse.GetValue(label), dataFormat, csv, parse.GetValue(device)!, error);
            output.WriteLine(asJson ? ToJson(evaluation, trained.Classes) : Report(evaluation, trained.Classes));
            if (plotPath is not null)
            {
                string title = $"{Path.GetFileName(dataPath)}: accuracy {evaluation.Accuracy:P1} on {evaluation.Rows} rows";
                Plots.ConfusionMatrix(evaluation.Confusion, trained.Classes, plotPath, title);
                error.WriteLine($"plot: {plotPath}");
            }
            return 0;
        }));
        return command;
    }

    /// <summary>A multi-label model's tag probabilities over the data against its tags, at threshold <paramref name="cut"/>.</summary>
    private static TagEvaluation EvaluateTags(SoftmaxModel trained, string dataPath, string? label, DataFormat format, CsvOptions csv,
        double cut, string device, TextWriter error)
    {
        (float[] probabilities, float[]? targets, double? loss, int rows) =
            PredictCommand.PredictTags(trained, dataPath, withTargets: true, device, error, format, csv, label);
        return TagEvaluation.Compute(probabilities, targets!, rows, trained.K, cut, loss!.Value);
    }

    /// <summary>A multiclass model's confusion matrix and loss, counted block by block: a .sgd file is never held whole.</summary>
    private static Evaluation EvaluateClasses(SoftmaxModel trained, string dataPath, string? label, DataFormat format, CsvOptions csv,
        string device, TextWriter error)
    {
        Gpu.OpenSoon(device); // while the data is read
        (IRowSource source, IDisposable? file) = Pipeline.RowsFor(trained, dataPath, labelsNeeded: true, label, format, csv);
        UnusedColumns.Note(error, trained, dataPath, label, format, csv);
        using (file)
        {
            using Gpu gpu = App.OpenDevice(device, error, source);
            var confusion = new long[trained.K, trained.K];
            double? loss = Pipeline.Predict(gpu, trained, source, withLabels: true,
                block => Evaluation.Count(block.Labels, block.Predicted, block.Rows, confusion));
            return Evaluation.FromConfusion(confusion, loss!.Value);
        }
    }

    public static string TagJson(TagEvaluation e, string[] tags, double threshold) =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["rows"] = e.Rows,
            ["threshold"] = threshold,
            ["subset_accuracy"] = e.SubsetAccuracy,
            ["hamming_loss"] = e.HammingLoss,
            ["loss"] = e.Loss,
            ["micro_precision"] = e.MicroPrecision,
            ["micro_recall"] = e.MicroRecall,
            ["micro_f1"] = e.MicroF1,
            ["macro_f1"] = e.MacroF1,
            ["tags"] = tags,
            ["precision"] = e.Precision,
            ["recall"] = e.Recall,
            ["f1"] = e.F1,
            ["support"] = e.Support,
        });

    public static string TagReport(TagEvaluation e, string[] tags, double threshold)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine($"rows             {e.Rows}");
        text.AppendLine($"threshold        {threshold:G6}");
        text.AppendLine($"subset accuracy  {e.SubsetAccuracy:F4}");
        text.AppendLine($"hamming loss     {e.HammingLoss:F4}");
        text.AppendLine($"loss (BCE)       {e.Loss:F4}");
        text.AppendLine($"micro-F1         {e.MicroF1:F4}  (precision {e.MicroPrecision:F4}, recall {e.MicroRecall:F4})");
        text.AppendLine($"macro-F1         {e.MacroF1:F4}");
        int width = Math.Max(3, tags.Max(c => c.Length));
        text.AppendLine();
        text.AppendLine($"{"tag".PadRight(width)}  precision  recall  f1      support");
        for (int c = 0; c < tags.Length; c++)
            text.AppendLine($"{tags[c].PadRight(width)}  {e.Precision[c],9:F4}  {e.Recall[c],6:F4}  {e.F1[c]:F4}  {e.Support[c],7}");
        return text.ToString().TrimEnd();
    }

    public static string ToJson(Evaluation e, string[] classes)
    {
        int k = classes.Length;
        var confusion = Enumerable.Range(0, k).Select(t => Enumerable.Range(0, k).Select(p => e.Confusion[t, p]).ToArray()).ToArray();
        var body = new Dictionary<string, object>
        {
            ["rows"] = e.Rows,
            ["accuracy"] = e.Accuracy,
            ["log_loss"] = e.LogLoss,
            ["macro_f1"] = e.MacroF1,
            ["classes"] = classes,
            ["precision"] = e.Precision,
            ["recall"] = e.Recall,
            ["f1"] = e.F1,
            ["confusion"] = confusion,
        };
        return JsonSerializer.Serialize(body);
    }

    public static string Report(Evaluation e, string[] classes)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine($"rows      {e.Rows}");
        text.AppendLine($"accuracy  {e.Accuracy:F4}");
        text.AppendLine($"log-loss  {e.LogLoss:F4}");
        text.AppendLine($"macro-F1  {e.MacroF1:F4}");
        int width = Math.Max(5, classes.Max(c => c.Length));
        text.AppendLine();
        text.AppendLine($"{"class".PadRight(width)}  precision  recall  f1");
        for (int c = 0; c < classes.Length; c++)
            text.AppendLine($"{classes[c].PadRight(width)}  {e.Precision[c],9:F4}  {e.Recall[c],6:F4}  {e.F1[c]:F4}");
        text.AppendLine();
        text.AppendLine("confusion (rows: true class, columns: predicted)");
        int cell = Math.Max(width, e.Rows.ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        text.AppendLine("".PadRight(width) + string.Concat(classes.Select(c => " " + c.PadLeft(cell))));
        for (int t = 0; t < classes.Length; t++)
            text.AppendLine(classes[t].PadRight(width) +
                            string.Concat(Enumerable.Range(0, classes.Length).Select(p => " " + e.Confusion[t, p].ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(cell))));
        return text.ToString().TrimEnd();
    }
}
