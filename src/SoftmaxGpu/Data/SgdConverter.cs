using System.Diagnostics;

namespace SoftmaxGpu.Data;

/// <summary>What a conversion wrote, for the summary line.</summary>
public sealed record SgdConversion(string Source, string Output, long Rows, int Dim, int Classes, long InputBytes,
    TimeSpan Elapsed)
{
    /// <summary>nnz, for a sparse file; null for a dense one.</summary>
    public long? NonZeros { get; init; }

    /// <summary>What the rows carry besides the features (target rows, weights); labels alone by default.</summary>
    public RowTargets Targets { get; init; } = new();
    /// <summary>Rows of tag sets (convert --multi-label): <see cref="Classes"/> counts the distinct tags.</summary>
    public bool MultiLabel { get; init; }

    /// <summary>Input megabytes (10⁶ bytes) per second.</summary>
    public double MegabytesPerSecond => InputBytes / 1e6 / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// CSV, LIBSVM (or a folder of MNIST IDX files) to a .sgd dataset in one pass. A LIBSVM file becomes a sparse .sgd
/// file (CSR blocks, D written at the end: one pass) unless dense is asked for (then a file without a given D takes
/// two: <see cref="LibSvmRowReader"/> finds D first). A CSV is streamed row by row through
/// <see cref="CsvRowReader"/> into <see cref="SgdWriter"/>, so memory stays at one block whatever N is, and
/// every input that training rejects is rejected here with the same message, before anything is renamed
/// into place (the output is written atomically, <see cref="AtomicFile"/>).
/// </summary>
public static class SgdConverter
{
    /// <param name="testSplit">For an IDX folder: its t10k files instead of its train files.</param>
    /// <param name="blockRows">R; 0 picks <see cref="SgdFormat.BlockRowsFor"/> (dense) or <see cref="SgdFormat.DefaultSparseBlockRows"/> (sparse).</param>
    /// <param name="format">CSV or LIBSVM for a file (auto: by extension).</param>
    /// <param name="libsvm">How a LIBSVM file is read (default: 1-based, D from the file).</param>
    /// <param name="csv">How a CSV file is read (its separator).</param>
    /// <param name="sparse">Whether a LIBSVM file becomes a sparse .sgd file (CSR blocks, version 2) or a dense one;
    /// null: sparse. True for other input is an error: only LIBSVM rows come sparse.</param>
    /// <param name="blockNonZeros">Z, non-zeros a sparse block holds at most; 0 picks <see cref="SgdFormat.DefaultSparseBlockNonZeros"/>.</param>
    /// <param name="targets">What a CSV row carries besides its features, as train reads it: probability or tag columns,
    /// a tags column, a weight column (kept in a version 3 file); null: the label in <paramref name="labelColumn"/>.</param>
    public static SgdConversion Convert(string data, string? labelColumn, bool testSplit, string output, int blockRows = 0,
        DataFormat format = DataFormat.Auto, LibSvmOptions? libsvm = null, CsvOptions? csv = null, bool? sparse = null,
        int blockNonZeros = 0, RowTargets? targets = null)
    {
        if (blockRows < 0)
            throw new ArgumentException($"--block-rows must be >= 0 (0 = automatic), got {blockRows}");
        ArgumentOutOfRangeException.ThrowIfNegative(blockNonZeros);
        targets ??= new RowTargets { Label = labelColumn };
        DataKind kind = DataSource.KindOf(data, format);
        if (kind.IsSgd())
            throw new ArgumentException($"{data} is a .sgd file already: train, evaluate and predict read it as it is " +
                                        "(convert reads a CSV file, a LIBSVM file or an MNIST folder)");
        if (!targets.LabelsOnly && kind is DataKind.Folder or DataKind.LibSvm)
            throw new ArgumentException($"target, tag and weight columns are read from a CSV file; {data} is not read as CSV");
        var clock = Stopwatch.StartNew();
        if (libsvm?.MultiLabel == true && (sparse == false || kind != DataKind.LibSvm))
            throw new ArgumentException("--multi-label converts LIBSVM multi-label rows (comma-separated tags) to a sparse .sgd file; " +
                                        (sparse == false ? "leave out --sparse off" : $"{data} is not read as LIBSVM (CSV tags train from the CSV itself)"));
        if (kind == DataKind.LibSvm)
            return sparse == false
                ? FromLibSvmDense(data, libsvm ?? new LibSvmOptions(), output, blockRows, clock)
                : FromLibSvmSparse(data, libsvm ?? new LibSvmOptions(), output, blockRows, blockNonZeros, clock);
        if (sparse == true)
            throw new ArgumentException($"--sparse on writes LIBSVM rows sparse, and {data} is not read as LIBSVM " +
                                        $"(it is not named *{string.Join(", *", LibSvmOptions.Extensions)}; give --format libsvm if it is LIBSVM)");
        return kind == DataKind.Folder
            ? FromIdx(data, testSplit, output, blockRows, clock)
            : FromCsv(data, targets, output, blockRows, clock, csv);
    }

    /// <summary>Rows parsed per hand-over from the parsing thread to the writing one.</summary>
    public const int ParsedBatchRows = 4096;

    /// <summary>Non-zeros parsed per hand-over (LIBSVM rows kept sparse), at most; a longer row goes alone.</summary>
    public const int ParsedBatchNonZeros = 1 << 18;

    /// <summary>Parsed batches in flight between the two threads: bounds memory at a few batches.</summary>
    public const int BatchesInFlight = 4;

    /// <summary>A batch of parsed rows, handed from the parsing thread to the writing one and back for reuse.</summary>
    private interface IParsedBatch
    {
        int Rows { get; }
    }

    /// <summary>CSV rows: features [Rows, D], their labels, target rows [Rows, K] and weights [Rows].</summary>
    private sealed class DenseBatch(int dim, int targetWidth) : IParsedBatch
    {
        public float[] Features { get; } = new float[ParsedBatchRows * dim];
        public string[] Labels { get; } = new string[ParsedBatchRows];
        public float[] Targets { get; } = new float[ParsedBatchRows * targetWidth];
        public float[] Weights { get; } = new float[ParsedBatchRows];
        public int Rows { get; set; }
    }

    /// <summary>
    /// Two stages on two threads: this thread parses and checks rows into batches (<paramref name="fill"/>, false once the
    /// input ends), a second appends them to the file (<paramref name="append"/>: statistics, block checksums, writes),
    /// with at most <see cref="BatchesInFlight"/> batches between them; appended batches come back to be filled again.
    /// Rows keep their order; the first bad row stops both and its message is the error.
    /// (CsvHelper's ParallelEnumerate, rows parsed on worker threads, was measured slower on 2 cores.)
    /// </summary>
    private static void TwoStages<TBatch>(Func<TBatch> make, Func<TBatch, bool> fill, Action<TBatch> append)
        where TBatch : class, IParsedBatch
    {
        using var parsed = new System.Collections.Concurrent.BlockingCollection<TBatch>(BatchesInFlight);
        var free = new System.Collections.Concurrent.ConcurrentQueue<TBatch>();
        using var stop = new CancellationTokenSource();
        Task appending = Task.Run(() =>
        {
            try
            {
                foreach (TBatch batch in parsed.GetConsumingEnumerable(stop.Token))
                {
                    append(batch);
                    free.Enqueue(batch);
                }
            }
            catch
            {
                stop.Cancel(); // the parser must not wait on a full queue nobody empties
                throw;
            }
        });
        try
        {
            bool more;
            do
            {
                TBatch batch = free.TryDequeue(out TBatch? reused) ? reused : make();
                more = fill(batch);
                if (batch.Rows > 0)
                    parsed.Add(batch, stop.Token);
            }
            while (more);
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
    }

    /// <summary>
    /// A CSV streamed row by row (<see cref="CsvTargetRows"/>: labels, or target rows and weights as train reads them) into
    /// the writer in two stages (<see cref="TwoStages"/>). A tags column is read twice: first for its tags, Y's columns.
    /// </summary>
    private static SgdConversion FromCsv(string data, RowTargets targets, string output, int blockRows, Stopwatch clock,
        CsvOptions? csv)
    {
        if (targets.Kind == RowTargetKind.MultiLabelTags)
            targets = targets with { Names = CsvTargetRows.Tags(data, targets, csv) };
        using var reader = new CsvTargetRows(data, targets, csv);
        int classes = 0;
        long rows = 0;
        int d = reader.Dim, k = targets.Width;
        AtomicFile.Write(output, stream =>
        {
            var writer = new SgdWriter(stream, reader.FeatureNames, reader.LabelName, blockRows, targets: reader.Targets);
            TwoStages(() => new DenseBatch(d, k),
                batch =>
                {
                    int count = 0;
                    while (count < ParsedBatchRows && reader.Next(batch.Features.AsSpan(count * d, d), out batch.Labels[count],
                               batch.Targets.AsSpan(count * k, k), out batch.Weights[count]))
                        count++;
                    batch.Rows = count;
                    return count == ParsedBatchRows;
                },
                batch =>
                {
                    for (int r = 0; r < batch.Rows; r++)
                        writer.Append(batch.Features.AsSpan(r * d, d), batch.Labels[r], batch.Targets.AsSpan(r * k, k), batch.Weights[r]);
                });
            reader.Finish();
            (rows, classes) = targets.Kind == RowTargetKind.Labels
                ? Finish(writer.Rows, writer.Classes, data, reader.LabelName, () => new DataFormatException($"{data}: no rows"))
                : (writer.Rows, writer.Classes.Count);
            writer.Finish();
        });
        return new SgdConversion(data, output, rows, d, classes, new FileInfo(data).Length, clock.Elapsed) { Targets = reader.Targets };
    }

    /// <summary>An MNIST folder's images and labels, row by row into the writer (memory: one image and one block).</summary>
    private static SgdConversion FromIdx(string data, bool testSplit, string output, int blockRows, Stopwatch clock)
    {
        if (!IdxTableReader.IsIdxFolder(data, testSplit))
            throw IdxTableReader.NotIdx(data, testSplit);
        using IdxRowReader reader = IdxTableReader.Open(data, testSplit);
        int classes = 0;
        AtomicFile.Write(output, stream =>
        {
            var writer = new SgdWriter(stream, reader.FeatureNames, reader.LabelName, blockRows);
            var row = new float[reader.Dim];
            while (reader.Next(row, out string label))
                writer.Append(row, label);
            classes = Finish(writer.Rows, writer.Classes, data, reader.LabelName, () => new DataFormatException($"{data}: no images")).Classes;
            writer.Finish();
        });
        long idxBytes = reader.Rows * reader.Dim + reader.Rows; // the pixel and label bytes read
        return new SgdConversion(data, output, reader.Rows, reader.Dim, classes, idxBytes, clock.Elapsed);
    }

    /// <summary>
    /// A LIBSVM file's rows, made dense one at a time, into the writer (memory: one row and one block; D found in a
    /// first pass where not given). The footer's mean is 0 (<see cref="SgdWriter"/>'s centre: false): training from it
    /// scales without centring.
    /// </summary>
    private static SgdConversion FromLibSvmDense(string data, LibSvmOptions options, string output, int blockRows, Stopwatch clock)
    {
        using var reader = new LibSvmRowReader(data, options);
        (long Rows, int Classes) done = default;
        AtomicFile.Write(output, stream =>
        {
            var writer = new SgdWriter(stream, reader.FeatureNames, LibSvmRowReader.LabelName, blockRows, centre: false);
            var row = new float[reader.Dim];
            while (reader.Next(row, out string label))
                writer.Append(row, label);
            done = Finish(writer.Rows, writer.Classes, data, LibSvmRowReader.LabelName, reader.NoRows);
            writer.Finish();
        });
        return new SgdConversion(data, output, done.Rows, reader.Dim, done.Classes, new FileInfo(data).Length, clock.Elapsed);
    }

    /// <summary>LIBSVM rows, non-zeros only (CSR): row starts [Rows + 1], columns and values [nnz], labels [Rows].</summary>
    private sealed class SparseBatch : IParsedBatch
    {
        public int[] RowStart { get; } = new int[ParsedBatchRows + 1];
        public int[] Columns { get; set; } = new int[ParsedBatchNonZeros];
        public float[] Values { get; set; } = new float[ParsedBatchNonZeros];
        public string[] Labels { get; } = new string[ParsedBatchRows];
        public int Rows { get; set; }

        /// <summary>Parses rows from <paramref name="reader"/> until the batch is full; false once the file ends.</summary>
        public bool Fill(LibSvmRowReader reader)
        {
            Rows = 0;
            int used = 0;
            while (Rows < ParsedBatchRows && (Rows == 0 || used < ParsedBatchNonZeros))
            {
                if (!reader.NextSparse(out string label, out ReadOnlySpan<int> columns, out ReadOnlySpan<float> values))
                    return false;
                if (used + columns.Length > Columns.Length)
                {
                    int capacity = (int)Math.Min(Array.MaxLength, Math.Max(2L * Columns.Length, (long)used + columns.Length));
                    (int[] grownColumns, float[] grownValues) = (new int[capacity], new float[capacity]);
                    Columns.AsSpan(0, used).CopyTo(grownColumns);
                    Values.AsSpan(0, used).CopyTo(grownValues);
                    (Columns, Values) = (grownColumns, grownValues);
                }
                columns.CopyTo(Columns.AsSpan(used));
                values.CopyTo(Values.AsSpan(used));
                Labels[Rows] = label;
                RowStart[++Rows] = used += columns.Length;
            }
            return true;
        }
    }

    /// <summary>
    /// A LIBSVM file to a sparse .sgd file (<see cref="SparseSgdWriter"/>) in one pass and two stages
    /// (<see cref="TwoStages"/>): memory holds a few parsed batches, one block and the per-column statistics, never the
    /// rows. D is given, or the largest index, known at the end and written in the footer.
    /// </summary>
    private static SgdConversion FromLibSvmSparse(string data, LibSvmOptions options, string output, int blockRows,
        int blockNonZeros, Stopwatch clock)
    {
        using LibSvmRowReader reader = LibSvmRowReader.OnePass(data, options);
        (long Rows, int Classes) done = default;
        long nonZeros = 0;
        int dim = 0;
        AtomicFile.Write(output, stream =>
        {
            // Multi-label rows keep their tag sets ('|'-joined) as the labels, under the label name that says so (TagsName).
            string labelName = LibSvmRowReader.LabelNameFor(options);
            var writer = new SparseSgdWriter(stream, labelName, options.FirstIndex, options.Features, blockRows, blockNonZeros);
            TwoStages(() => new SparseBatch(), batch => batch.Fill(reader), batch =>
            {
                for (int r = 0; r < batch.Rows; r++)
                {
                    int start = batch.RowStart[r], length = batch.RowStart[r + 1] - start;
                    try
                    {
                        writer.Append(batch.Columns.AsSpan(start, length), batch.Values.AsSpan(start, length), batch.Labels[r]);
                    }
                    catch (ArgumentException e)
                    {
                        throw new DataFormatException($"{data}: data {e.Message}");
                    }
                }
            });
            done = options.MultiLabel
                ? (writer.Rows > 0 ? writer.Rows : throw reader.NoRows(), TagTable.DistinctTags(data, writer.Classes).Length)
                : Finish(writer.Rows, writer.Classes, data, labelName, reader.NoRows);
            if (options.Features is null && writer.ColumnsSeen == 0)
                throw new DataFormatException($"{data}: no line has an index:value entry, so the number of features is unknown; give --features N");
            writer.Finish();
            (nonZeros, dim) = (writer.NonZeros, options.Features ?? writer.ColumnsSeen);
        });
        return new SgdConversion(data, output, done.Rows, dim, done.Classes, new FileInfo(data).Length, clock.Elapsed)
        {
            NonZeros = nonZeros,
            MultiLabel = options.MultiLabel,
        };
    }

    /// <summary>The checks training makes on the whole set (rows, two classes) before the footer is written.</summary>
    private static (long Rows, int Classes) Finish(long rows, IReadOnlyList<string> classes, string data, string labelName,
        Func<DataFormatException> noRows)
    {
        if (rows == 0)
            throw noRows();
        if (classes.Count < 2)
            throw Table.OneClass(data, labelName, classes[0]);
        return (rows, classes.Count);
    }
}
