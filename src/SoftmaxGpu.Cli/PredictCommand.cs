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
            Description = "CSV with the model's feature columns (a label column, if present, is ignored), a LIBSVM file (its labels optional; D from the model), a .sgd file, or an MNIST folder (its t10k files).",
            Required = true,
        };
        var outPath = new Option<string>("--out") { Description = "Where to write the predictions CSV.", Required = true };
        var idColumn = new Option<string?>("--id-column")
        {
            Description = "A CSV column (any text, e.g. an id) copied into the predictions as their first column, so they can be joined back.",
        };
        var proba = new Option<bool>("--proba") { Description = "Also write one probability column p_<class> per class (multi-label: per tag)." };
        Option<double?> threshold = ThresholdOption();
        Option<string> device = App.DeviceOption();
        Option<string> format = DataFormatOptions.FormatOption();
        Option<string> separator = DataFormatOptions.SeparatorOption();

        var command = new Command("predict", "Predict the class (multi-label: the tag set) of every row with a trained model.")
        {
            model, data, outPath, proba, idColumn, threshold, device, format, separator,
        };
        command.SetAction(parse => App.Guard(error, () =>
        {
            OutputPaths.Check([("--out", parse.GetValue(outPath))],
                [("--data", parse.GetValue(data)), ("--model", parse.GetValue(model))]);
            SoftmaxModel trained = ModelFile.Load(parse.GetValue(model)!);
            double cut = Threshold(trained, parse.GetValue(threshold));
            string dataPath = parse.GetValue(data)!;
            DataFormat dataFormat = DataFormatOptions.FormatOf(parse, format);
            CsvOptions csv = DataFormatOptions.CsvOf(parse, separator);
            string path = parse.GetValue(outPath)!;
            // Predictions on standard output: the summary line goes to standard error, out of the CSV.
            TextWriter summary = AtomicFile.IsStandardOutput(path) ? error : output;
            DataFormatOptions.WarnIgnored(error, parse, dataPath, dataFormat, separator);
            using IEnumerator<string>? ids = IdsOf(parse.GetValue(idColumn), dataPath, dataFormat, csv)?.GetEnumerator();
            IdColumn? id = ids is null ? null : new IdColumn(parse.GetValue(idColumn)!, ids);
            if (trained.Kind.IsMultiLabel())
            {
                (float[] probabilities, _, _, int rows) = PredictTags(trained, dataPath, withTargets: false, parse.GetValue(device)!,
                    error, dataFormat, csv);
                WriteTags(path, trained, probabilities, rows, cut, parse.GetValue(proba), id);
                summary.WriteLine($"predictions: {path} ({rows} rows; tags where σ(z) ≥ {cut:G6})");
                return 0;
            }
            Gpu.OpenSoon(parse.GetValue(device)!); // while the data is read
            (IRowSource source, IDisposable? file) = Pipeline.RowsFor(trained, dataPath, format: dataFormat, csv: csv);
            UnusedColumns.Note(error, trained, dataPath, null, dataFormat, csv);
            using (file)
            {
                using Gpu gpu = App.OpenDevice(parse.GetValue(device)!, error, source);
                Write(gpu, path, trained, source, parse.GetValue(proba), id);
                summary.WriteLine($"predictions: {path} ({source.Rows} rows)");
            }
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// A multi-label model's tag probabilities σ(z) [N, K] over the data, with its tags [N, K] and the mean loss against them
    /// where <paramref name="withTargets"/>: LIBSVM tag lists (text or a sparse .sgd file) kept sparse on the host engine
    /// (<see cref="TagPipeline.SparseRowsFor"/>), a CSV's rows on the device (<see cref="TagTable.ForModel"/>).
    /// </summary>
    /// <param name="label">evaluate --label: the CSV's tags column or 0/1 tag columns (default: the model's).</param>
    public static (float[] Probabilities, float[]? Targets, double? Loss, int Rows) PredictTags(SoftmaxModel model, string data,
        bool withTargets, string device, TextWriter error, DataFormat format, CsvOptions csv, string? label = null)
    {
        if (TagPipeline.SparseRowsFor(model, data, withTargets, format) is SparseTable rows)
        {
            using Gpu host = App.OpenHostForSparseRows(error);
            (float[] q, float[]? y, double? sparseLoss) = TagPipeline.Predict(model, rows, withTargets);
            return (q, y, sparseLoss, rows.Rows);
        }
        Table table = TagTable.ForModel(model, data, withTargets, csv, label);
        UnusedColumns.Note(error, model, data, label, format, csv);
        using Gpu gpu = App.OpenDevice(device, error);
        (float[] probabilities, float[]? targets, double? loss) = TagPipeline.Predict(gpu, model, table, withTargets);
        return (probabilities, targets, loss, table.Rows);
    }

    /// <summary>The default tag threshold: a tag is predicted where σ(z) ≥ 0.5 (z ≥ 0).</summary>
    public const double DefaultThreshold = 0.5;

    /// <summary>--threshold, shared with evaluate.</summary>
    public static Option<double?> ThresholdOption() => new("--threshold")
    {
        Description = $"Multi-label models: a tag is predicted where its probability σ(z) reaches this, in (0, 1) (default {DefaultThreshold}).",
    };

    /// <summary>The threshold to use: given (multi-label models only, in (0, 1)) or the default.</summary>
    public static double Threshold(SoftmaxModel model, double? given)
    {
        if (given is null)
            return DefaultThreshold;
        if (!model.Kind.IsMultiLabel())
            throw new ArgumentException("--threshold applies to multi-label models; this model predicts one class per row (argmax)");
        if (given is not (> 0 and < 1))
            throw new ArgumentException($"--threshold must be in (0, 1), got {given}");
        return given.Value;
    }

    /// <summary>predict --id-column: its name, and its text for each row in order, written before each prediction.</summary>
    private sealed record IdColumn(string Name, IEnumerator<string> Values)
    {
        public string Next() => Values.MoveNext() ? Values.Current
            : throw new DataFormatException($"--id-column '{Name}': the column ended before the rows did");
    }

    /// <summary>The --id-column's values, read from a CSV file beside its feature rows; null without the option.</summary>
    private static IEnumerable<string>? IdsOf(string? column, string data, DataFormat format, CsvOptions csv)
    {
        if (column is null)
            return null;
        if (!File.Exists(data) || !DataSource.KindOf(data, format).HasNamedColumns())
            throw new ArgumentException($"--id-column copies a column of a CSV file; {data} is not read as CSV");
        return CsvRowReader.Column(data, column, csv);
    }

    /// <summary>[id,] predicted[, p_class…]: the header of the predictions (p_ columns with --proba).</summary>
    private static string[] Header(SoftmaxModel model, bool withProbabilities, IdColumn? id) =>
    [
        .. id is null ? Array.Empty<string>() : [id.Name], "predicted",
        .. withProbabilities ? model.Classes.Select(c => $"p_{c}") : [],
    ];

    /// <summary>Header: [id,] predicted[, p_tag…]; predicted is the row's tags at or above the threshold, joined by '|'.</summary>
    private static void WriteTags(string path, SoftmaxModel model, float[] probabilities, int rows, double threshold,
        bool withProbabilities, IdColumn? id)
    {
        int k = model.K, at = id is null ? 0 : 1; // the predicted column
        string[] header = Header(model, withProbabilities, id);
        AtomicFile.Write(path, stream =>
        {
            using CsvWriter csv = CsvWriter.Create(stream, new CsvWriterOptions(), leaveOpen: true);
            csv.WriteHeader(header);
            var record = new string[header.Length];
            for (int r = 0; r < rows; r++)
            {
                long row = (long)r * k;
                if (id is not null)
                    record[0] = id.Next();
                record[at] = string.Join(TagTable.Separator, model.Classes.Where((_, c) => probabilities[row + c] >= threshold));
                if (withProbabilities)
                    for (int c = 0; c < k; c++)
                        record[at + 1 + c] = probabilities[row + c].ToString("G9", CultureInfo.InvariantCulture);
                csv.WriteRecord(record);
            }
        });
    }

    /// <summary>Header: [id,] predicted[, p_class…]; one row per input row, in input order, written block by block.</summary>
    private static void Write(Gpu gpu, string path, SoftmaxModel model, IRowSource source, bool withProbabilities, IdColumn? id)
    {
        int k = model.K, at = id is null ? 0 : 1; // the predicted column
        string[] header = Header(model, withProbabilities, id);
        AtomicFile.Write(path, stream =>
        {
            using CsvWriter csv = CsvWriter.Create(stream, new CsvWriterOptions(), leaveOpen: true);
            csv.WriteHeader(header);
            var record = new string[header.Length];
            Pipeline.Predict(gpu, model, source, withLabels: false, block =>
            {
                for (int r = 0; r < block.Rows; r++)
                {
                    if (id is not null)
                        record[0] = id.Next();
                    record[at] = model.Classes[block.Predicted[r]];
                    if (withProbabilities)
                        for (int c = 0; c < k; c++)
                            record[at + 1 + c] = block.Probabilities[(long)r * k + c].ToString("G9", CultureInfo.InvariantCulture);
                    csv.WriteRecord(record);
                }
            });
        });
    }
}
