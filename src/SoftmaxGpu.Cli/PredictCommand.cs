using System.CommandLine;
using System.Globalization;
using CsvHelper;
using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Model;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Cli;

/// <summary><c>softmaxgpu predict</c>: the predicted label of every row, and optionally its probabilities.</summary>
public static class PredictCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var model = new Option<string>("--model") { Description = "Model file written by train.", Required = true };
        var data = new Option<string>("--data")
        {
            Description = "CSV with the model's feature columns (a label column, if present, is ignored), a .sgd file, or an MNIST folder (its t10k files).",
            Required = true,
        };
        var outPath = new Option<string>("--out") { Description = "Where to write the predictions CSV.", Required = true };
        var proba = new Option<bool>("--proba") { Description = "Also write one probability column p_<class> per class." };
        Option<string> device = App.DeviceOption();

        var command = new Command("predict", "Predict the class of every row with a trained model.")
        {
            model, data, outPath, proba, device,
        };
        command.SetAction(parse => App.Guard(error, () =>
        {
            SoftmaxModel trained = ModelFile.Load(parse.GetValue(model)!);
            Table table = DataSource.Load(parse.GetValue(data)!, trained.LabelName, testSplit: true, labelOptional: true);
            using Gpu gpu = App.OpenDevice(parse.GetValue(device)!, error);
            Prediction prediction = Pipeline.Predict(gpu, trained, table, withLabels: false);
            bool withProbabilities = parse.GetValue(proba);
            string path = parse.GetValue(outPath)!;
            Write(path, trained, prediction, withProbabilities);
            output.WriteLine($"predictions: {path} ({table.Rows} rows)");
            return 0;
        }));
        return command;
    }

    /// <summary>Header: predicted[, p_class…]; one row per input row, in input order.</summary>
    private static void Write(string path, SoftmaxModel model, Prediction prediction, bool withProbabilities)
    {
        int k = model.K;
        string[] header = withProbabilities
            ? ["predicted", .. model.Classes.Select(c => $"p_{c}")]
            : ["predicted"];
        AtomicFile.Write(path, stream =>
        {
            using CsvWriter csv = CsvWriter.Create(stream, new CsvWriterOptions(), leaveOpen: true);
            csv.WriteHeader(header);
            var record = new string[header.Length];
            for (int r = 0; r < prediction.Predicted.Length; r++)
            {
                record[0] = model.Classes[prediction.Predicted[r]];
                if (withProbabilities)
                    for (int c = 0; c < k; c++)
                        record[c + 1] = prediction.Probabilities[(long)r * k + c].ToString("G9", CultureInfo.InvariantCulture);
                csv.WriteRecord(record);
            }
        });
    }
}
