using System.Diagnostics;

namespace SoftmaxGpu.Data;

/// <summary>What a conversion wrote, for the summary line.</summary>
public sealed record SgdConversion(string Source, string Output, long Rows, int Dim, int Classes, long InputBytes,
    TimeSpan Elapsed)
{
    /// <summary>Input megabytes (10⁶ bytes) per second.</summary>
    public double MegabytesPerSecond => InputBytes / 1e6 / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// CSV, LIBSVM (or a folder of MNIST IDX files) to a .sgd dataset in one pass (a LIBSVM file without a given D
/// in two: <see cref="LibSvmRowReader"/> finds D first). A CSV is streamed row by row through
/// <see cref="CsvRowReader"/> into <see cref="SgdWriter"/>, so memory stays at one block whatever N is, and
/// every input that training rejects is rejected here with the same message, before anything is renamed
/// into place (the output is written atomically, <see cref="AtomicFile"/>).
/// </summary>
public static class SgdConverter
{
    /// <param name="testSplit">For an IDX folder: its t10k files instead of its train files.</param>
    /// <param name="blockRows">R; 0 picks <see cref="SgdFormat.BlockRowsFor"/>.</param>
    /// <param name="format">CSV or LIBSVM for a file (auto: by extension).</param>
    /// <param name="libsvm">How a LIBSVM file is read (default: 1-based, D from the file).</param>
    /// <param name="csv">How a CSV file is read (its separator).</param>
    public static SgdConversion Convert(string data, string? labelColumn, bool testSplit, string output, int blockRows = 0,
        DataFormat format = DataFormat.Auto, LibSvmOptions? libsvm = null, CsvOptions? csv = null)
    {
        if (blockRows < 0)
            throw new ArgumentException($"--block-rows must be >= 0 (0 = automatic), got {blockRows}");
        var clock = Stopwatch.StartNew();
        if (LibSvmOptions.Applies(data, format))
            return FromLibSvm(data, libsvm ?? new LibSvmOptions(), output, blockRows, clock);
        return Directory.Exists(data)
            ? FromIdx(data, testSplit, output, blockRows, clock)
            : FromCsv(data, labelColumn, output, blockRows, clock, csv);
    }

    /// <summary>Rows parsed per hand-over from the parsing thread to the writing one.</summary>
    public const int ParsedBatchRows = 4096;

    /// <summary>Parsed batches in flight between the two threads: bounds memory at a few batches.</summary>
    public const int BatchesInFlight = 4;

    /// <summary>A batch of parsed rows: features [Rows, D] and their labels.</summary>
    private sealed record ParsedBatch(float[] Features, string[] Labels, int Rows);

    /// <summary>
    /// Two stages on two threads: this thread parses and checks rows (CsvRowReader) in batches, a second appends
    /// them to the file (statistics, block checksums, writes), with at most <see cref="BatchesInFlight"/> batches
    /// between them. Rows keep their order; the first bad row stops both and its message is the error.
    /// (CsvHelper's ParallelEnumerate, rows parsed on worker threads, was measured slower on 2 cores.)
    /// </summary>
    private static SgdConversion FromCsv(string data, string? labelColumn, string output, int blockRows, Stopwatch clock,
        CsvOptions? csv)
    {
        using var reader = new CsvRowReader(data, labelColumn, columns: csv);
        int classes = 0;
        long rows = 0;
        int d = reader.Dim;
        AtomicFile.Write(output, stream =>
        {
            var writer = new SgdWriter(stream, reader.FeatureNames, reader.LabelName, blockRows);
            using var parsed = new System.Collections.Concurrent.BlockingCollection<ParsedBatch>(BatchesInFlight);
            using var stop = new CancellationTokenSource();
            Task appending = Task.Run(() =>
            {
                try
                {
                    foreach (ParsedBatch batch in parsed.GetConsumingEnumerable(stop.Token))
                        for (int r = 0; r < batch.Rows; r++)
                            writer.Append(batch.Features.AsSpan(r * d, d), batch.Labels[r]);
                }
                catch
                {
                    stop.Cancel(); // the parser must not wait on a full queue nobody empties
                    throw;
                }
            });
            try
            {
                ParsedBatch batch;
                do
                {
                    batch = new ParsedBatch(new float[ParsedBatchRows * d], new string[ParsedBatchRows], 0);
                    int count = 0;
                    while (count < ParsedBatchRows && reader.Next(batch.Features.AsSpan(count * d, d), out batch.Labels[count]))
                        count++;
                    batch = batch with { Rows = count };
                    if (count > 0)
                        parsed.Add(batch, stop.Token);
                }
                while (batch.Rows == ParsedBatchRows);
            }
            finally
            {
                parsed.CompleteAdding();
                try
                {
                    appending.Wait();
                }
                catch (AggregateException e) when (e.InnerException is not null)
                {
                    // The writer failed (the parser then stopped on the cancelled queue): its error is the one to report.
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
                }
            }
            (rows, classes) = Finish(writer, data, reader.LabelName, reader.NoRows);
        });
        return new SgdConversion(data, output, rows, d, classes, new FileInfo(data).Length, clock.Elapsed);
    }

    /// <summary>An MNIST folder's images and labels, row by row into the writer (memory: one image and one block).</summary>
    private static SgdConversion FromIdx(string data, bool testSplit, string output, int blockRows, Stopwatch clock)
    {
        if (!IdxTableReader.IsIdxFolder(data))
            throw new DataFormatException($"{data}: a folder, but with no MNIST IDX files in it");
        using IdxRowReader reader = IdxTableReader.Open(data, testSplit);
        int classes = 0;
        AtomicFile.Write(output, stream =>
        {
            var writer = new SgdWriter(stream, reader.FeatureNames, reader.LabelName, blockRows);
            var row = new float[reader.Dim];
            while (reader.Next(row, out string label))
                writer.Append(row, label);
            classes = Finish(writer, data, reader.LabelName, () => new DataFormatException($"{data}: no images")).Classes;
        });
        long idxBytes = reader.Rows * reader.Dim + reader.Rows; // the pixel and label bytes read
        return new SgdConversion(data, output, reader.Rows, reader.Dim, classes, idxBytes, clock.Elapsed);
    }

    /// <summary>
    /// A LIBSVM file's rows, made dense one at a time, into the writer (memory: one row and one block). The
    /// footer's mean is 0 (<see cref="SgdWriter"/>'s centre: false): training from it scales without centring.
    /// </summary>
    private static SgdConversion FromLibSvm(string data, LibSvmOptions options, string output, int blockRows, Stopwatch clock)
    {
        using var reader = new LibSvmRowReader(data, options);
        (long Rows, int Classes) done = default;
        AtomicFile.Write(output, stream =>
        {
            var writer = new SgdWriter(stream, reader.FeatureNames, LibSvmRowReader.LabelName, blockRows, centre: false);
            var row = new float[reader.Dim];
            while (reader.Next(row, out string label))
                writer.Append(row, label);
            done = Finish(writer, data, LibSvmRowReader.LabelName, reader.NoRows);
        });
        return new SgdConversion(data, output, done.Rows, reader.Dim, done.Classes, new FileInfo(data).Length, clock.Elapsed);
    }

    /// <summary>The checks training makes on the whole set (rows, two classes), then the footer.</summary>
    private static (long Rows, int Classes) Finish(SgdWriter writer, string data, string labelName,
        Func<DataFormatException> noRows)
    {
        if (writer.Rows == 0)
            throw noRows();
        if (writer.Classes.Count < 2)
            throw Table.OneClass(data, labelName, writer.Classes[0]);
        writer.Finish();
        return (writer.Rows, writer.Classes.Count);
    }
}
