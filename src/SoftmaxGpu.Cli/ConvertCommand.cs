using System.CommandLine;
using SoftmaxGpu.Data;

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
        var label = new Option<string?>("--label") { Description = "Label column of the CSV (default: the last column)." };
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

        var multiLabel = new Option<bool>("--multi-label")
        {
            Description = "LIBSVM multi-label rows: each line's first token is its comma-separated tags (3,17,42), none where the " +
                          "line starts with index:value; written as a sparse .sgd file that trains with train --multi-label.",
        };
        var dataFormat = new DataFormatOptions();

        var command = new Command("convert", "Convert a CSV, LIBSVM file or MNIST folder to a binary .sgd dataset.")
        {
            data, label, test, outPath, blockRows, sparse, multiLabel,
        };
        foreach (Option option in dataFormat.All)
            command.Options.Add(option);
        command.SetAction(parse => App.Guard(error, () =>
        {
            OutputPaths.Check([("--out", parse.GetValue(outPath))], [("--data", parse.GetValue(data))]);
            (DataFormat format, LibSvmOptions libsvm) = dataFormat.For(parse, parse.GetValue(data)!, parse.GetValue(label));
            libsvm = libsvm with { MultiLabel = parse.GetValue(multiLabel) };
            DataFormatOptions.WarnIgnored(error, parse, parse.GetValue(data)!, format, dataFormat.Separator, label, test);
            SgdConversion done = SgdConverter.Convert(parse.GetValue(data)!, parse.GetValue(label), parse.GetValue(test),
                parse.GetValue(outPath)!, parse.GetValue(blockRows), format, libsvm, DataFormatOptions.CsvOf(parse, dataFormat.Separator),
                parse.GetValue(sparse) switch { "on" => true, "off" => false, _ => null });
            output.WriteLine(
                $"converted: {done.Source} -> {done.Output}: {done.Rows} rows, {done.Dim} features, {done.Classes} {(done.MultiLabel ? "tags" : "classes")}" +
                (done.NonZeros is long nnz ? $", {nnz} non-zeros (sparse)" : "") + "; " +
                $"{done.InputBytes / 1e6:F1} MB in {done.Elapsed.TotalSeconds:F2} s ({done.MegabytesPerSecond:F1} MB/s)");
            return 0;
        }));
        return command;
    }
}
