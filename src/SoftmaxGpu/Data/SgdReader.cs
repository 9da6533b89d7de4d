using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace SoftmaxGpu.Data;

/// <summary>
/// Reads a dense .sgd dataset (versions 1 and 3, layout in <see cref="SgdFormat"/>; sparse files are
/// <see cref="SparseSgdReader"/>'s, and <see cref="SgdFormat.IsSparse"/> tells them apart). Opening reads the preamble and the footer only
/// and checks the magic, version, footer checksum and that the block sizes add up to the file; rows are read
/// on request, and a block's checksum is verified the first time any of its rows is read (the whole block is
/// read then, and kept until another block is verified; afterwards only the rows asked for are read). Any
/// mismatch is a <see cref="DataFormatException"/> naming the file and what is wrong. One reader serves one
/// thread at a time (it keeps a block buffer).
/// </summary>
public sealed class SgdReader : IDisposable
{
    private readonly SafeFileHandle handle;
    private readonly int[] permutation;  // [K] stored class index → sorted class index
    private readonly bool[] verified;    // [blocks] checksum already checked
    private readonly SgdBlockLayout layout;
    private byte[]? blockBytes;          // the last block verified, whole: X, y, Y, w, checksum
    private int blockInBuffer = -1;

    private SgdReader(string path, SafeFileHandle handle, Footer footer, SgdBlockLayout layout, int blockRows)
    {
        Path = path;
        this.handle = handle;
        this.layout = layout;
        Dim = layout.Dim;
        BlockRows = blockRows;
        Rows = footer.Rows;
        LabelName = footer.LabelName;
        FeatureNames = footer.FeatureNames;
        ClassNames = footer.Classes;
        permutation = footer.Permutation;
        Mean = footer.Mean;
        Std = footer.Std;
        Targets = footer.Targets;
        Blocks = (int)((Rows + blockRows - 1) / blockRows);
        verified = new bool[Blocks];
    }

    public string Path { get; }
    /// <summary>N.</summary>
    public long Rows { get; }
    /// <summary>D.</summary>
    public int Dim { get; }
    /// <summary>R: rows per block (the last block may hold fewer).</summary>
    public int BlockRows { get; }
    public int Blocks { get; }
    public string LabelName { get; }
    public string[] FeatureNames { get; }
    /// <summary>
    /// The K classes in sorted order; <see cref="ReadRows(long, int, Span{float}, Span{int})"/> gives labels as indices into them. Where the rows carry
    /// target rows, the target or tag names in Y's column order.
    /// </summary>
    public string[] ClassNames { get; }
    /// <summary>Per-feature mean of X: [D].</summary>
    public double[] Mean { get; }
    /// <summary>Per-feature population std of X: [D]; 0 for a constant feature.</summary>
    public double[] Std { get; }
    /// <summary>What the rows carry besides the features: labels (every version 1 file), or target rows; and weights.</summary>
    public RowTargets Targets { get; }
    /// <summary>K where every row carries a target row (<see cref="Targets"/>), else 0.</summary>
    public int TargetWidth => layout.TargetWidth;
    /// <summary>Whether every row carries a weight.</summary>
    public bool HasWeights => layout.Weights;

    /// <summary>The standardization training would fit on these rows (a constant feature gets std 1).</summary>
    public Standardizer Standardizer() =>
        new((double[])Mean.Clone(), Std.Select(Data.Standardizer.OneIfConstant).ToArray());

    public static SgdReader Open(string path)
    {
        if (!File.Exists(path))
            throw new DataFormatException($"{path}: file not found");
        SafeFileHandle handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            (byte[] preamble, byte[] footerBytes, long footerOffset) = SgdFormat.ReadEnds(path, handle,
                [SgdFormat.Version, SgdFormat.TargetsVersion], SgdFormat.MaxFooterBytes);
            int version = BinaryPrimitives.ReadInt32LittleEndian(preamble.AsSpan(8));
            (int dim, int blockRows) = (BinaryPrimitives.ReadInt32LittleEndian(preamble.AsSpan(12)), BinaryPrimitives.ReadInt32LittleEndian(preamble.AsSpan(16)));

            if (dim < 1 || blockRows < 1)
                throw new DataFormatException($"{path}: invalid shapes D={dim}, R={blockRows} (need D ≥ 1, R ≥ 1)");
            if (!SgdFormat.BlockFits(blockRows, dim))
                throw new DataFormatException(
                    $"{path}: blocks of {blockRows} rows × {dim} features exceed {SgdFormat.MaxBlockFeatureBytes >> 20} MiB; not written by this tool");
            Footer footer = ReadFooter(path, footerBytes, dim, version);
            var layout = new SgdBlockLayout(dim, footer.Targets.Width, footer.Targets.WeightColumn is not null);
            if (!SgdFormat.BlockFits(blockRows, layout.RowFloats))
                throw new DataFormatException(
                    $"{path}: blocks of {blockRows} rows × {layout.RowFloats} values exceed {SgdFormat.MaxBlockFeatureBytes >> 20} MiB; not written by this tool");
            long expected = layout.FooterOffset(footer.Rows, blockRows);
            if (expected != footerOffset)
                throw new DataFormatException(
                    $"{path}: {footer.Rows} rows of {layout.RowFloats} values in blocks of {blockRows} take {expected - SgdFormat.PreambleBytes} " +
                    $"bytes, but the footer starts at byte {footerOffset} (corrupted)");
            return new SgdReader(path, handle, footer, layout, blockRows);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private sealed record Footer(long Rows, string LabelName, string[] FeatureNames, string[] Classes, int[] Permutation,
        double[] Mean, double[] Std, RowTargets Targets);

    private static Footer ReadFooter(string path, ReadOnlyMemory<byte> bytes, int dim, int version)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes.ToArray(), writable: false), Encoding.UTF8);
            long rows = r.ReadInt64();
            if (rows < 1)
                throw new DataFormatException($"{path}: invalid row count N={rows} (need N ≥ 1)");
            string label = FileStrings.Read(r, path);
            string[] features = Enumerable.Range(0, dim).Select(_ => FileStrings.Read(r, path)).ToArray();
            int k = r.ReadInt32();
            if (k < 1 || k > bytes.Length / 8)
                throw new DataFormatException($"{path}: invalid class count K={k}");
            string[] classes = Enumerable.Range(0, k).Select(_ => FileStrings.Read(r, path)).ToArray();
            int[] permutation = Enumerable.Range(0, k).Select(_ => r.ReadInt32()).ToArray();
            if (!permutation.Order().SequenceEqual(Enumerable.Range(0, k)))
                throw new DataFormatException($"{path}: the class permutation is not a permutation of 0..{k - 1}");
            double[] mean = Enumerable.Range(0, dim).Select(_ => r.ReadDouble()).ToArray();
            double[] std = Enumerable.Range(0, dim).Select(_ => r.ReadDouble()).ToArray();
            RowTargets targets = version == SgdFormat.TargetsVersion ? ReadTargets(path, r, label, classes)
                : new RowTargets { Label = label };
            if (r.BaseStream.Position != r.BaseStream.Length)
                throw new DataFormatException($"{path}: {r.BaseStream.Length - r.BaseStream.Position} unexpected bytes at the footer's end");
            return new Footer(rows, label, features, classes, permutation, mean, std, targets);
        }
        catch (EndOfStreamException)
        {
            throw new DataFormatException($"{path}: the footer ends before the shapes in the preamble say it should");
        }
    }

    /// <summary>Version 3's end of the footer: the target kind (the classes are then the target names) and the weight column.</summary>
    private static RowTargets ReadTargets(string path, BinaryReader r, string label, string[] classes)
    {
        string name = FileStrings.Read(r, path);
        RowTargetKind kind = RowTargets.FromFileName(name)
            ?? throw new DataFormatException($"{path}: unknown target kind '{name}' (corrupted, or from a newer SoftmaxGpu)");
        string weights = FileStrings.Read(r, path);
        return new RowTargets
        {
            Kind = kind,
            Label = kind is RowTargetKind.Labels or RowTargetKind.MultiLabelTags ? label : null,
            Names = kind == RowTargetKind.Labels ? null : classes,
            WeightColumn = weights.Length == 0 ? null : weights,
        };
    }

    /// <summary>
    /// Rows [start, start + count): raw features into <paramref name="features"/> ([count, D] row-major) and
    /// labels as indices into <see cref="ClassNames"/> into <paramref name="labels"/> ([count]).
    /// </summary>
    public void ReadRows(long start, int count, Span<float> features, Span<int> labels) =>
        ReadRows(start, count, features, labels, default, default);

    /// <summary>
    /// Rows [start, start + count) as <see cref="ReadRows(long, int, Span{float}, Span{int})"/> reads them, and where
    /// the file has them and the span is not empty, their target rows into <paramref name="targets"/> ([count, K]) and
    /// weights into <paramref name="weights"/> ([count]). An empty <paramref name="features"/> skips the features.
    /// </summary>
    public void ReadRows(long start, int count, Span<float> features, Span<int> labels, Span<float> targets, Span<float> weights)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (start + count > Rows)
            throw new ArgumentOutOfRangeException(nameof(count), $"rows {start}..{start + count} run past N = {Rows}");
        if ((!features.IsEmpty && features.Length < (long)count * Dim) || labels.Length < count)
            throw new ArgumentException($"{count} rows need {(long)count * Dim} features and {count} labels");
        int k = targets.IsEmpty ? 0 : TargetWidth;
        if (targets.Length < (long)count * k || (!weights.IsEmpty && (!HasWeights || weights.Length < count)))
            throw new ArgumentException($"{count} rows need {(long)count * TargetWidth} targets and {count} weights (the file has " +
                                        $"{TargetWidth} targets a row{(HasWeights ? " and weights" : ", no weights")})");
        int d = features.IsEmpty ? 0 : Dim, w = weights.IsEmpty ? 0 : 1;
        int done = 0;
        while (done < count)
        {
            long row = start + done;
            int block = (int)(row / BlockRows);
            int first = (int)(row - (long)block * BlockRows);
            int take = Math.Min(count - done, RowsIn(block) - first);
            ReadFromBlock(block, first, take, features.Slice(done * d, take * d), labels.Slice(done, take),
                targets.Slice(done * k, take * k), weights.Slice(done * w, take * w));
            done += take;
        }
    }

    private int RowsIn(int block) => (int)Math.Min(BlockRows, Rows - (long)block * BlockRows);

    private long BlockStart(int block) => SgdFormat.PreambleBytes + block * layout.Bytes(BlockRows);

    private void ReadFromBlock(int block, int first, int take, Span<float> features, Span<int> labels, Span<float> targets,
        Span<float> weights)
    {
        int rows = RowsIn(block);
        Part(block, 0, first, Dim, MemoryMarshal.AsBytes(features));
        Part(block, layout.LabelsAt(rows), first, 1, MemoryMarshal.AsBytes(labels));
        Part(block, layout.TargetsAt(rows), first, TargetWidth, MemoryMarshal.AsBytes(targets));
        Part(block, layout.WeightsAt(rows), first, 1, MemoryMarshal.AsBytes(weights));
        for (int i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)permutation.Length)
                throw new DataFormatException(
                    $"{Path}: block {block}: class index {labels[i]} outside the file's {permutation.Length} classes (corrupted)");
            labels[i] = permutation[labels[i]];
        }
    }

    /// <summary>
    /// Rows from <paramref name="first"/> of the part of <paramref name="block"/> at byte <paramref name="at"/>, whose rows
    /// are <paramref name="width"/> 4-byte values, into <paramref name="into"/> (empty: not wanted): from the verified block
    /// in memory, or straight from the file once the block's checksum has been checked.
    /// </summary>
    private void Part(int block, long at, int first, int width, Span<byte> into)
    {
        if (into.IsEmpty)
            return;
        long from = at + 4L * first * width;
        if (!verified[block] || blockInBuffer == block)
            VerifiedBlock(block).AsSpan((int)from, into.Length).CopyTo(into);
        else
            SgdFormat.ReadExactly(Path, handle, into, BlockStart(block) + from);
    }

    /// <summary>The whole block, read and checked against its checksum.</summary>
    private byte[] VerifiedBlock(int block)
    {
        if (blockInBuffer == block)
            return blockBytes!;
        int rows = RowsIn(block);
        int size = (int)layout.Bytes(rows);
        if (blockBytes is null || blockBytes.Length < size)
            blockBytes = new byte[(int)layout.Bytes(BlockRows)];
        blockInBuffer = -1;
        SgdFormat.ReadExactly(Path, handle, blockBytes.AsSpan(0, size), BlockStart(block));
        int payload = size - SgdFormat.BlockChecksumBytes;
        ulong expected = BinaryPrimitives.ReadUInt64LittleEndian(blockBytes.AsSpan(payload));
        if (XxHash64.HashToUInt64(blockBytes.AsSpan(0, payload)) != expected)
            throw new DataFormatException($"{Path}: block {block} of {Blocks} (rows from {(long)block * BlockRows}) is corrupted (checksum mismatch)");
        verified[block] = true;
        blockInBuffer = block;
        return blockBytes;
    }

    /// <summary>
    /// Every row in host memory, as a CSV would be read: the labels as class text (probability rows: the largest
    /// target's class; multi-label: the row's tags joined by '|', as <see cref="TagTable"/> reads them). Weights are
    /// not kept.
    /// </summary>
    public Table ToTable()
    {
        if (Rows * Dim > Array.MaxLength || Rows > Array.MaxLength)
            throw new DataFormatException(
                $"{Path}: {Rows} rows × {Dim} features are too many to hold in one host array");
        int n = (int)Rows, k = Targets.IsMultiLabel ? TargetWidth : 0;
        var features = new float[(long)n * Dim];
        var labels = new int[n];
        var tags = new float[(long)n * k];
        for (int row = 0; row < n; row += BlockRows)
        {
            int take = Math.Min(BlockRows, n - row);
            ReadRows(row, take, features.AsSpan(row * Dim, take * Dim), labels.AsSpan(row, take), tags.AsSpan(row * k, take * k), default);
        }
        string[] text = k == 0 ? labels.Select(c => ClassNames[c]).ToArray()
            : Enumerable.Range(0, n).Select(r => TagTable.Join(tags.AsSpan(r * k, k), ClassNames)).ToArray();
        return new Table(Path, FeatureNames, LabelName, features, text);
    }

    public void Dispose() => handle.Dispose();
}
