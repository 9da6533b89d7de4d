using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace SoftmaxGpu.Data;

/// <summary>
/// Writes a sparse .sgd dataset (version 2, layout in <see cref="SgdFormat"/>) in one pass onto a seekable stream:
/// rows are appended, non-zeros only, into one CSR block buffer (the only memory that grows with the data: at most
/// R rows and Z non-zeros, a longer row alone), each full block goes out with its checksum, and
/// <see cref="Finish"/> writes the footer — N, D (given, or the largest column + 1), the classes, the block sizes
/// and the per-feature mean, std and max |x| accumulated row by row (<see cref="SparseStatistics"/>) — then
/// patches the preamble's footer offset. D is not needed before the end: a block does not depend on it.
/// </summary>
public sealed class SparseSgdWriter
{
    private readonly Stream stream;
    private readonly long start;
    private readonly string labelName;
    private readonly int firstIndex;
    private readonly int? dim;
    private readonly int blockRows;
    private readonly int blockNonZeros;
    private readonly int[] blockStart; // row starts: [R + 1], blockStart[0] = 0
    private readonly int[] blockY;    // y: [R] stored class indices
    private int[] blockColumns;       // [Z] (more for a row longer than Z)
    private float[] blockValues;      // [Z]
    private int inBlock;
    private readonly List<(int Rows, int NonZeros)> blocks = [];
    private readonly Dictionary<string, int> classIndex = new(StringComparer.Ordinal);
    private readonly List<string> classes = []; // in order of first appearance: the stored indices
    private readonly SparseStatistics statistics = new();
    private bool finished;

    /// <param name="firstIndex">0 or 1: how the features are named (the LIBSVM file's first index).</param>
    /// <param name="dim">D where known (LIBSVM's --features): a column at or beyond it is an error; null takes
    /// the largest column + 1 at <see cref="Finish"/>.</param>
    /// <param name="blockRows">R, rows a block holds at most; 0 picks <see cref="SgdFormat.DefaultSparseBlockRows"/>. Tests set it small.</param>
    /// <param name="blockNonZeros">Z, non-zeros a block holds at most (a longer row is a block of its own); 0 picks
    /// <see cref="SgdFormat.DefaultSparseBlockNonZeros"/>.</param>
    public SparseSgdWriter(Stream stream, string labelName, int firstIndex, int? dim, int blockRows = 0, int blockNonZeros = 0)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("the .sgd writer copies int32 and float32 arrays as little-endian bytes");
        SgdWriter.RequireSeekable(stream);
        if (firstIndex is not (0 or 1))
            throw new ArgumentOutOfRangeException(nameof(firstIndex), $"the first index is 0 or 1, got {firstIndex}");
        if (dim is < 1)
            throw new ArgumentException($"--features must be >= 1, got {dim}");
        ArgumentOutOfRangeException.ThrowIfNegative(blockRows);
        ArgumentOutOfRangeException.ThrowIfNegative(blockNonZeros);
        (this.stream, this.labelName, this.firstIndex, this.dim) = (stream, labelName, firstIndex, dim);
        this.blockRows = blockRows == 0 ? SgdFormat.DefaultSparseBlockRows : blockRows;
        this.blockNonZeros = blockNonZeros == 0 ? SgdFormat.DefaultSparseBlockNonZeros : blockNonZeros;
        blockStart = new int[this.blockRows + 1];
        blockY = new int[this.blockRows];
        blockColumns = new int[Math.Min(this.blockNonZeros, 1 << 16)]; // grows to Z as rows arrive
        blockValues = new float[blockColumns.Length];
        start = stream.Position;
        stream.Write(SgdFormat.SparsePreamble(footerOffset: 0)); // patched by Finish
    }

    /// <summary>N: rows appended so far.</summary>
    public long Rows { get; private set; }

    /// <summary>nnz: non-zeros appended so far.</summary>
    public long NonZeros { get; private set; }

    /// <summary>The largest column appended so far + 1 (0 before any non-zero).</summary>
    public int ColumnsSeen => statistics.Columns;

    /// <summary>Distinct labels so far, in order of first appearance.</summary>
    public IReadOnlyList<string> Classes => classes;

    /// <summary>Appends one row: its non-zeros (0-based strictly increasing columns, finite values) and its label text.</summary>
    public void Append(ReadOnlySpan<int> columns, ReadOnlySpan<float> values, string label)
    {
        if (finished)
            throw new InvalidOperationException("the dataset is finished");
        if (columns.Length != values.Length)
            throw new ArgumentException($"a row has {columns.Length} columns but {values.Length} values");
        CheckRow(columns, values);
        if (!classIndex.TryGetValue(label, out int k))
        {
            k = classes.Count;
            classIndex.Add(label, k);
            classes.Add(label);
        }
        int used = blockStart[inBlock];
        if (inBlock == blockRows || (inBlock > 0 && (long)used + columns.Length > blockNonZeros))
        {
            FlushBlock();
            used = 0;
        }
        if (used + columns.Length > blockColumns.Length)
        {
            int capacity = (int)Math.Min(Array.MaxLength, Math.Max(Math.Min(2L * blockColumns.Length, blockNonZeros), (long)used + columns.Length));
            Array.Resize(ref blockColumns, capacity);
            Array.Resize(ref blockValues, capacity);
        }
        statistics.Add(columns, values);
        columns.CopyTo(blockColumns.AsSpan(used));
        values.CopyTo(blockValues.AsSpan(used));
        blockY[inBlock] = k;
        blockStart[++inBlock] = used + columns.Length;
        Rows++;
        NonZeros += columns.Length;
    }

    private void CheckRow(ReadOnlySpan<int> columns, ReadOnlySpan<float> values)
    {
        int limit = Math.Min(dim ?? int.MaxValue, SgdFormat.MaxSparseColumns);
        int previous = -1;
        for (int e = 0; e < columns.Length; e++)
        {
            int j = columns[e];
            if (j <= previous)
                throw new ArgumentException($"row {Rows + 1}: columns must increase, and column {j} follows {previous}");
            if (j >= limit)
                throw new ArgumentException(j >= (dim ?? int.MaxValue)
                    ? $"row {Rows + 1}: column {j} is beyond the {dim} features"
                    : $"row {Rows + 1}: feature {j + firstIndex} is beyond the {SgdFormat.MaxSparseColumns} features a sparse .sgd file " +
                      "keeps statistics for");
            if (!float.IsFinite(values[e]))
                throw new ArgumentException($"row {Rows + 1}, column {j}: {values[e]} is not finite");
            previous = j;
        }
    }

    /// <summary>Writes the last (partial) block and the footer, and points the preamble at the footer.</summary>
    /// <exception cref="InvalidOperationException">No rows, or no non-zero and no D given (D unknown).</exception>
    public void Finish()
    {
        if (finished)
            throw new InvalidOperationException("the dataset is finished");
        if (Rows == 0)
            throw new InvalidOperationException("a dataset needs at least one row");
        if (dim is null && ColumnsSeen == 0)
            throw new InvalidOperationException("no row has a non-zero, so D is unknown; give it");
        if (inBlock > 0)
            FlushBlock();
        finished = true;

        long footerOffset = stream.Position - start;
        byte[] preamble = SgdFormat.SparsePreamble(footerOffset);
        SgdFormat.WriteEnds(stream, start, preamble, Footer());
    }

    private void FlushBlock()
    {
        int rows = inBlock, nonZeros = blockStart[rows];
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(head, rows);
        BinaryPrimitives.WriteInt32LittleEndian(head[4..], nonZeros);
        var hash = new XxHash64();
        void Write(ReadOnlySpan<byte> part)
        {
            hash.Append(part);
            stream.Write(part);
        }
        Write(head);
        Write(MemoryMarshal.AsBytes(blockStart.AsSpan(0, rows + 1)));
        Write(MemoryMarshal.AsBytes(blockY.AsSpan(0, rows)));
        Write(MemoryMarshal.AsBytes(blockColumns.AsSpan(0, nonZeros)));
        Write(MemoryMarshal.AsBytes(blockValues.AsSpan(0, nonZeros)));
        Span<byte> checksum = stackalloc byte[SgdFormat.BlockChecksumBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, hash.GetCurrentHashAsUInt64());
        stream.Write(checksum);
        blocks.Add((rows, nonZeros));
        inBlock = 0;
    }

    private byte[] Footer()
    {
        (double[] mean, double[] std, double[] maxAbs) = statistics.Finish(Rows);

        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Rows);
            w.Write(NonZeros);
            w.Write(dim ?? ColumnsSeen);
            w.Write(firstIndex);
            FileStrings.Write(w, labelName);
            SgdFormat.WriteClasses(w, classes);
            w.Write(blocks.Count);
            foreach ((int rows, int nonZeros) in blocks)
            {
                w.Write(rows);
                w.Write(nonZeros);
            }
            w.Write(mean.Length);
            foreach (double[] column in new[] { mean, std, maxAbs })
                w.Write(MemoryMarshal.AsBytes(column.AsSpan()));
        }
        return body.ToArray();
    }
}
