using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace SoftmaxGpu.Data;

/// <summary>
/// Reads a sparse .sgd dataset (version 2, layout in <see cref="SgdFormat"/>). Opening reads the preamble and the
/// footer only and checks the magic, version, footer checksum and that the block sizes add up to the file; a block
/// is read whole on request (<see cref="ReadBlock"/>), or every block into one CSR set (<see cref="ReadAll"/>,
/// <see cref="ToSparseTable"/>), each checked against its checksum and for CSR it can trust (row starts in order,
/// columns increasing and within the features, classes within K). Any mismatch is a <see cref="DataFormatException"/>
/// naming the file and what is wrong. <see cref="SgdReader"/> reads the dense files (version 1);
/// <see cref="SgdFormat.IsSparse"/> tells them apart.
/// </summary>
public sealed class SparseSgdReader : IDisposable
{
    private readonly SafeFileHandle handle;
    private readonly Footer footer;
    private readonly long[] blockOffset;  // [B] where block b starts in the file
    private readonly long[] blockFirstRow; // [B + 1] the first row of block b; [B] = N
    private string[]? featureNames;

    private SparseSgdReader(string path, SafeFileHandle handle, Footer footer, long[] blockOffset, long[] blockFirstRow)
    {
        (Path, this.handle, this.footer, this.blockOffset, this.blockFirstRow) = (path, handle, footer, blockOffset, blockFirstRow);
    }

    public string Path { get; }
    /// <summary>N.</summary>
    public long Rows => footer.Rows;
    /// <summary>nnz: non-zeros in all the rows.</summary>
    public long NonZeros => footer.NonZeros;
    /// <summary>D.</summary>
    public int Dim => footer.Dim;
    /// <summary>0 or 1: feature j is named (FirstIndex + j), as the LIBSVM file wrote its index.</summary>
    public int FirstIndex => footer.FirstIndex;
    /// <summary>B: blocks.</summary>
    public int Blocks => footer.Blocks.Length;
    public string LabelName => footer.LabelName;
    /// <summary>The K classes in sorted order; labels are read as indices into them.</summary>
    public string[] ClassNames => footer.Classes;
    /// <summary>The D feature names ("1".."D", or "0".."D−1"), made when first asked for.</summary>
    public string[] FeatureNames => featureNames ??= Names(FirstIndex)(Dim);
    /// <summary>L: columns that occur (the largest column + 1); features from L on are zero in every row.</summary>
    public int ColumnsSeen => footer.Mean.Length;
    /// <summary>Per-feature mean over all N rows, zeros counted: [L].</summary>
    public double[] Mean => footer.Mean;
    /// <summary>Per-feature population std over all N rows, zeros counted: [L]; 0 for a constant feature.</summary>
    public double[] Std => footer.Std;
    /// <summary>Per-feature max |x|: [L].</summary>
    public double[] MaxAbs => footer.MaxAbs;

    /// <summary>Rows in block <paramref name="block"/>.</summary>
    public int RowsIn(int block) => footer.Blocks[block].Rows;
    /// <summary>Non-zeros in block <paramref name="block"/>.</summary>
    public int NonZerosIn(int block) => footer.Blocks[block].NonZeros;
    /// <summary>The first row of block <paramref name="block"/>.</summary>
    public long FirstRowOf(int block) => blockFirstRow[block];

    /// <summary>
    /// The scaling training fits (<see cref="SparseTable.Statistics"/>'s, from the footer): Std: mean and std (1 for
    /// a constant feature); MaxAbs: mean 0 and max |x| (1 for an all-zero feature); None: mean 0, std 1. [D] each.
    /// </summary>
    public Standardizer Statistics(FeatureScaling scaling = FeatureScaling.Std)
    {
        if (scaling == FeatureScaling.None)
            return Standardizer.Identity(Dim);
        var mean = new double[Dim];
        var scale = new double[Dim];
        Array.Fill(scale, 1.0);
        for (int j = 0; j < ColumnsSeen; j++)
        {
            if (scaling == FeatureScaling.MaxAbs)
                scale[j] = MaxAbs[j] > 0 ? MaxAbs[j] : 1.0;
            else
                (mean[j], scale[j]) = (Mean[j], Standardizer.OneIfConstant(Std[j]));
        }
        return new Standardizer(mean, scale);
    }

    public static SparseSgdReader Open(string path)
    {
        if (!File.Exists(path))
            throw new DataFormatException($"{path}: file not found");
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            (byte[] preamble, byte[] footerBytes, long footerOffset) =
                SgdFormat.ReadEnds(path, handle, [SgdFormat.SparseVersion], SgdFormat.MaxSparseFooterBytes);
            if (BinaryPrimitives.ReadInt64LittleEndian(preamble.AsSpan(12)) != 0)
                throw new DataFormatException($"{path}: dataset file is corrupted (reserved preamble bytes are not zero)");
            Footer footer = ReadFooter(path, footerBytes);
            (long[] offsets, long[] firstRows) = Layout(path, footer, footerOffset);
            return new SparseSgdReader(path, handle, footer, offsets, firstRows);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private sealed record Footer(long Rows, long NonZeros, int Dim, int FirstIndex, string LabelName, string[] Classes,
        int[] Permutation, (int Rows, int NonZeros)[] Blocks, double[] Mean, double[] Std, double[] MaxAbs);

    private static Footer ReadFooter(string path, ReadOnlySpan<byte> bytes)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes.ToArray(), writable: false), Encoding.UTF8);
            long rows = r.ReadInt64(), nonZeros = r.ReadInt64();
            int dim = r.ReadInt32(), first = r.ReadInt32();
            if (rows < 1 || nonZeros < 0 || dim < 1 || first is not (0 or 1))
                throw new DataFormatException($"{path}: invalid shapes N={rows}, nnz={nonZeros}, D={dim}, first index {first}");
            string label = FileStrings.Read(r, path);
            int k = r.ReadInt32();
            if (k < 1 || k > bytes.Length / 8)
                throw new DataFormatException($"{path}: invalid class count K={k}");
            string[] classes = Enumerable.Range(0, k).Select(_ => FileStrings.Read(r, path)).ToArray();
            int[] permutation = Enumerable.Range(0, k).Select(_ => r.ReadInt32()).ToArray();
            if (!permutation.Order().SequenceEqual(Enumerable.Range(0, k)))
                throw new DataFormatException($"{path}: the class permutation is not a permutation of 0..{k - 1}");
            int blocks = r.ReadInt32();
            if (blocks < 1 || blocks > bytes.Length / 8)
                throw new DataFormatException($"{path}: invalid block count B={blocks}");
            var sizes = new (int Rows, int NonZeros)[blocks];
            for (int b = 0; b < blocks; b++)
                sizes[b] = (r.ReadInt32(), r.ReadInt32());
            int l = r.ReadInt32();
            if (l < 0 || l > dim || l > SgdFormat.MaxSparseColumns)
                throw new DataFormatException($"{path}: invalid count of columns that occur L={l} (D={dim})");
            double[] mean = ReadDoubles(r, l), std = ReadDoubles(r, l), maxAbs = ReadDoubles(r, l);
            if (r.BaseStream.Position != r.BaseStream.Length)
                throw new DataFormatException($"{path}: {r.BaseStream.Length - r.BaseStream.Position} unexpected bytes after max |x|");
            return new Footer(rows, nonZeros, dim, first, label, classes, permutation, sizes, mean, std, maxAbs);
        }
        catch (EndOfStreamException)
        {
            throw new DataFormatException($"{path}: the footer ends before its shapes say it should");
        }
    }

    private static double[] ReadDoubles(BinaryReader r, int count)
    {
        var values = new double[count];
        Span<byte> bytes = MemoryMarshal.AsBytes(values.AsSpan());
        if (r.Read(bytes) != bytes.Length)
            throw new EndOfStreamException();
        return values;
    }

    /// <summary>Where each block starts and its first row, checked against N, nnz and the footer's offset.</summary>
    private static (long[] Offsets, long[] FirstRows) Layout(string path, Footer footer, long footerOffset)
    {
        int blocks = footer.Blocks.Length;
        var offsets = new long[blocks];
        var firstRows = new long[blocks + 1];
        long at = SgdFormat.PreambleBytes, nonZeros = 0;
        for (int b = 0; b < blocks; b++)
        {
            (int rows, int z) = footer.Blocks[b];
            if (rows < 1 || z < 0)
                throw new DataFormatException($"{path}: block {b} has {rows} rows and {z} non-zeros (corrupted)");
            offsets[b] = at;
            at += SgdFormat.SparseBlockBytes(rows, z);
            firstRows[b + 1] = firstRows[b] + rows;
            nonZeros += z;
        }
        if (firstRows[blocks] != footer.Rows || nonZeros != footer.NonZeros || at != footerOffset)
            throw new DataFormatException(
                $"{path}: {blocks} blocks of {firstRows[blocks]} rows and {nonZeros} non-zeros take {at - SgdFormat.PreambleBytes} bytes, " +
                $"but the footer says N={footer.Rows}, nnz={footer.NonZeros} and starts at byte {footerOffset} (corrupted)");
        return (offsets, firstRows);
    }

    /// <summary>Block <paramref name="block"/>'s rows (CSR, D columns) and their labels as indices into <see cref="ClassNames"/>.</summary>
    public (SparseRows Rows, int[] Labels) ReadBlock(int block)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(block);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(block, Blocks);
        (int rows, int z) = footer.Blocks[block];
        var rowStart = new int[rows + 1];
        var labels = new int[rows];
        var columns = new int[z];
        var values = new float[z];
        ReadBlockInto(block, rowStart, labels, columns, values);
        return (new SparseRows(rowStart, columns, values, Dim), labels);
    }

    /// <summary>Every row into one CSR set (8 bytes a non-zero) and the labels as indices into <see cref="ClassNames"/>.</summary>
    /// <param name="dim">The D the rows are to have (a model's), or null: the file's. Every column that occurs must be below it.</param>
    /// <param name="from">Where <paramref name="dim"/> comes from, for the message when a column is beyond it.</param>
    public (SparseRows Rows, int[] Labels) ReadAll(int? dim = null, string from = "the model")
    {
        if (dim is int d && ColumnsSeen > d)
            throw new DataFormatException(
                $"{Path}: feature {ColumnsSeen - 1 + FirstIndex} occurs, beyond the last feature, {d - 1 + FirstIndex} ({d} features, from {from})");
        if (NonZeros > Array.MaxLength || Rows >= Array.MaxLength)
            throw new DataFormatException(
                $"{Path}: {Rows} rows and {NonZeros} non-zeros are more than one host array holds; read it block by block (ReadBlock)");
        var rowStart = new int[Rows + 1];
        var labels = new int[Rows];
        var columns = new int[NonZeros];
        var values = new float[NonZeros];
        int at = 0;
        for (int b = 0; b < Blocks; b++)
        {
            (int rows, int z) = footer.Blocks[b];
            int first = (int)blockFirstRow[b];
            // Block b's row starts overwrite the previous block's last one (its end, = at) with 0; shifting restores it.
            Span<int> starts = rowStart.AsSpan(first, rows + 1);
            ReadBlockInto(b, starts, labels.AsSpan(first, rows), columns.AsSpan(at, z), values.AsSpan(at, z));
            for (int i = 0; i <= rows; i++)
                starts[i] += at;
            at += z;
        }
        return (new SparseRows(rowStart, columns, values, dim ?? Dim), labels);
    }

    /// <summary>Every row as a <see cref="SparseTable"/> (labels as class text), as <see cref="SparseTable.Read"/> reads the LIBSVM file.</summary>
    /// <param name="dim">The D the rows are to have (a model's), or null: the file's.</param>
    /// <param name="from">Where <paramref name="dim"/> comes from, for the message when a column is beyond it.</param>
    public SparseTable ToSparseTable(int? dim = null, string from = "the model")
    {
        (SparseRows rows, int[] labels) = ReadAll(dim, from);
        string[] names = ClassNames;
        return SparseTable.Named(Path, Names(FirstIndex), LabelName, rows, Array.ConvertAll(labels, k => names[k]));
    }

    private static Func<int, string[]> Names(int first) => new LibSvmOptions { ZeroBased = first == 0 }.FeatureNames;

    /// <summary>Reads block b into the spans (row starts [n + 1] within the block, labels [n], columns and values [z]),
    /// verifying its checksum and its CSR; labels come out as indices into <see cref="ClassNames"/>.</summary>
    private void ReadBlockInto(int block, Span<int> rowStart, Span<int> labels, Span<int> columns, Span<float> values)
    {
        (int rows, int z) = footer.Blocks[block];
        long at = blockOffset[block];
        var hash = new XxHash64();
        void Read(Span<byte> part)
        {
            SgdFormat.ReadExactly(Path, handle, part, at);
            hash.Append(part);
            at += part.Length;
        }
        Span<byte> head = stackalloc byte[8];
        Read(head);
        Read(MemoryMarshal.AsBytes(rowStart));
        Read(MemoryMarshal.AsBytes(labels));
        Read(MemoryMarshal.AsBytes(columns));
        Read(MemoryMarshal.AsBytes(values));
        Span<byte> checksum = stackalloc byte[SgdFormat.BlockChecksumBytes];
        SgdFormat.ReadExactly(Path, handle, checksum, at);
        if (hash.GetCurrentHashAsUInt64() != BinaryPrimitives.ReadUInt64LittleEndian(checksum))
            throw new DataFormatException(
                $"{Path}: block {block} of {Blocks} (rows from {blockFirstRow[block]}) is corrupted (checksum mismatch)");
        if (BinaryPrimitives.ReadInt32LittleEndian(head) != rows || BinaryPrimitives.ReadInt32LittleEndian(head[4..]) != z)
            throw new DataFormatException($"{Path}: block {block}: its header disagrees with the footer's block sizes (corrupted)");
        CheckBlock(block, rowStart, labels, columns, values);
    }

    /// <summary>The CSR invariants training relies on; a file this tool wrote always has them.</summary>
    private void CheckBlock(int block, Span<int> rowStart, Span<int> labels, ReadOnlySpan<int> columns, ReadOnlySpan<float> values)
    {
        int[] permutation = footer.Permutation;
        int limit = ColumnsSeen;
        string Corrupted(string what) => $"{Path}: block {block} (rows from {blockFirstRow[block]}): {what} (corrupted)";
        if (rowStart[0] != 0 || rowStart[^1] != columns.Length)
            throw new DataFormatException(Corrupted($"row starts run from {rowStart[0]} to {rowStart[^1]}, not 0 to {columns.Length}"));
        for (int i = 0; i < labels.Length; i++)
        {
            int start = rowStart[i], end = rowStart[i + 1];
            if (end < start || end > columns.Length)
                throw new DataFormatException(Corrupted($"row {i}'s non-zeros end at {end}, before they start at {start}"));
            for (int e = start, previous = -1; e < end; previous = columns[e++])
                if (columns[e] <= previous || columns[e] >= limit || !float.IsFinite(values[e]))
                    throw new DataFormatException(Corrupted($"row {i}: column {columns[e]} after {previous} (of {limit}), value {values[e]}"));
            if ((uint)labels[i] >= (uint)permutation.Length)
                throw new DataFormatException(Corrupted($"class index {labels[i]} outside the file's {permutation.Length} classes"));
            labels[i] = permutation[labels[i]];
        }
    }

    public void Dispose() => handle.Dispose();
}
