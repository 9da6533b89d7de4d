using System.CommandLine;
using SoftmaxGpu.Data;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Cli;

/// <summary>
/// <c>softmaxgpu convert</c>: a CSV, a LIBSVM file (sparse by default) or an MNIST IDX folder to a .sgd dataset, in
/// one streaming pass with bounded memory; <c>train</c>, <c>predict</c> and <c>evaluate</c> then read the .sgd file wherever a CSV works.
/// </summary>
public static class ConvertCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var data = new Option<string>("--data")
        {
            Description = "CSV with a header, a LIBSVM file (see --format), or a folder of MNIST IDX files (its train files; t10k with --test).",
            Required = true,
        };
        var columns = new TrainArguments(); // --label, --multi-label, --target-columns, --weight-column, --ignore: read as train reads them
        var test = new Option<bool>("--test") { Description = "For an MNIST folder: convert its t10k files." };
        var outPath = new Option<string>("--out") { Description = "The .sgd file to write.", Required = true };
        var blockRows = new Option<int>("--block-rows")
        {
            Description = "Rows per block (0: 65536, or fewer so a block's features stay within 64 MiB; sparse blocks also end at 2M non-zeros).",
            DefaultValueFactory = _ => 0,
        };

        var sparse = new Option<string>("--sparse")
        {
            Description = "LIBSVM input: auto (default) or on writes a sparse .sgd file (CSR blocks, 8 bytes a non-zero, D found " +
                          "in the same pass); off writes dense rows (4·D bytes a row) as before.",
            DefaultValueFactory = _ => "auto",
        };
        sparse.AcceptOnlyFromAmong("auto", "on", "off");

        var dataFormat = new DataFormatOptions();

        var command = new Command("convert",
            "Convert a CSV, LIBSVM file or MNIST folder to a binary .sgd dataset. From a CSV, --target-columns, --weight-column " +
            "and --multi-label --label keep each row's probability targets, weight or tags in the file, read and checked as train " +
            "reads them (--ignore leaves columns out), and train, evaluate and predict take them from it. From LIBSVM, --multi-label " +
            "reads each line's first token as its comma-separated tags (3,17,42) and writes a sparse .sgd file of tag sets.")
        {
            data, test, outPath, blockRows, sparse,
        };
        foreach (Option option in columns.ColumnOptions.Concat(dataFormat.All))
            command.Options.Add(option);
        command.SetAction(parse => App.Guard(error, () =>
        {
            OutputPaths.Check([("--out", parse.GetValue(outPath))], [("--data", parse.GetValue(data))]);
            (DataFormat format, LibSvmOptions libsvm) = dataFormat.For(parse, parse.GetValue(data)!, parse.GetValue(columns.Label));
            DataFormatOptions.WarnIgnored(error, parse, parse.GetValue(data)!, format, dataFormat.Separator, columns.Label, test);
            TrainingSpec spec = columns.ConvertSpec(parse, parse.GetValue(data)!, dataFormat, format, libsvm);
            SgdConversion done = spec.Convert(parse.GetValue(outPath)!, parse.GetValue(test), parse.GetValue(blockRows),
                parse.GetValue(sparse) switch { "on" => true, "off" => false, _ => null });
            output.WriteLine(
                $"converted: {done.Source} -> {done.Output}: {done.Rows} rows, {done.Dim} features, {done.Classes} " +
                (done.MultiLabel || done.Targets.IsMultiLabel ? "tags" : "classes") + (done.Targets.LabelsOnly ? "" : $" ({done.Targets.Describe()})") +
                (done.NonZeros is long nnz ? $", {nnz} non-zeros (sparse)" : "") + "; " +
                $"{done.InputBytes / 1e6:F1} MB in {done.Elapsed.TotalSeconds:F2} s ({done.MegabytesPerSecond:F1} MB/s)");
            return 0;
        }));
        return command;
    }
}
