using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace SoftmaxGpu.Data;

/// <summary>
/// Writes a .sgd dataset (layout in <see cref="SgdFormat"/>) in one pass onto a seekable stream: rows are
/// appended into one block buffer (R rows of features, label and, where the rows carry them, target rows and weights:
/// the only memory that grows with the data), each full block goes out with its checksum, and <see cref="Finish"/>
/// writes the footer — N, names, classes and the per-feature mean and std, accumulated row by row (Welford), and what
/// the rows carry — then patches the preamble's footer offset. Rows of labels alone make a version 1 file, as before
/// target rows and weights could be kept; rows with them, version 3.
/// </summary>
public sealed class SgdWriter
{
    private readonly Stream stream;
    private readonly long start;
    private readonly string[] featureNames;
    private readonly string labelName;
    private readonly RowTargets targets;
    private readonly SgdBlockLayout layout;
    private readonly int dim;
    private readonly int blockRows;
    private readonly float[] blockX; // X: [R, D] row-major, the block being filled
    private readonly int[] blockY;   // y: [R], stored class indices
    private readonly float[] blockT; // Y: [R, K] target rows, or empty
    private readonly float[] blockW; // w: [R] weights, or empty
    private int inBlock;
    private readonly Dictionary<string, int> classIndex = new(StringComparer.Ordinal);
    private readonly List<string> classes = []; // in order of first appearance: the stored indices
    private readonly double[] mean;  // [D] running mean
    private readonly double[] m2;    // [D] running Σ (x − mean)², Welford
    private readonly bool centre;
    private bool finished;

    /// <param name="blockRows">R; 0 picks <see cref="SgdFormat.BlockRowsFor"/>. Tests set it small.</param>
    /// <param name="centre">False for sparse (LIBSVM) rows: the footer's mean is written as 0, so training from the
    /// file scales without centring, as training from the LIBSVM file does (<see cref="Table.Sparse"/>).</param>
    /// <param name="targets">What the rows carry besides the features (null: a label): with target rows (their names
    /// known, <see cref="RowTargets.Names"/>) or weights the file is version 3.</param>
    public SgdWriter(Stream stream, string[] featureNames, string labelName, int blockRows = 0, bool centre = true,
        RowTargets? targets = null)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("the .sgd writer copies float32 and int32 arrays as little-endian bytes");
        RequireSeekable(stream);
        if (featureNames.Length < 1)
            throw new ArgumentException("a dataset needs at least one feature", nameof(featureNames));
        ArgumentOutOfRangeException.ThrowIfNegative(blockRows);
        this.targets = targets ?? new RowTargets { Label = labelName };
        if (this.targets.Kind != RowTargetKind.Labels && this.targets.Width < 1)
            throw new ArgumentException("target rows need their names", nameof(targets));
        this.stream = stream;
        this.featureNames = featureNames;
        this.labelName = labelName;
        this.centre = centre;
        dim = featureNames.Length;
        layout = new SgdBlockLayout(dim, this.targets.Width, this.targets.WeightColumn is not null);
        this.blockRows = blockRows == 0 ? SgdFormat.BlockRowsFor(layout.RowFloats) : blockRows;
        if (!SgdFormat.BlockFits(this.blockRows, layout.RowFloats))
            throw new ArgumentException(
                $"--block-rows {blockRows}: a block of {dim} features{(layout.TargetWidth > 0 ? $", {layout.TargetWidth} targets" : "")}" +
                $"{(layout.Weights ? " and a weight" : "")} a row would exceed {SgdFormat.MaxBlockFeatureBytes >> 20} MiB; " +
                $"at most {SgdFormat.BlockRowsFor(layout.RowFloats)} rows");
        blockX = new float[(long)this.blockRows * dim];
        blockY = new int[this.blockRows];
        blockT = new float[(long)this.blockRows * layout.TargetWidth];
        blockW = new float[layout.Weights ? this.blockRows : 0];
        if (this.targets.Kind != RowTargetKind.Labels)
            classes.AddRange(this.targets.Names!); // the classes are Y's columns, in order
        mean = new double[dim];
        m2 = new double[dim];
        start = stream.Position;
        stream.Write(Preamble(footerOffset: 0)); // patched by Finish
    }

    private int Version => layout.Extended ? SgdFormat.TargetsVersion : SgdFormat.Version;

    private byte[] Preamble(long footerOffset) => SgdFormat.Preamble(Version, dim, blockRows, footerOffset);

    /// <summary>N: rows appended so far.</summary>
    public long Rows { get; private set; }

    /// <summary>Distinct labels so far, in order of first appearance.</summary>
    public IReadOnlyList<string> Classes => classes;

    /// <summary>
    /// Appends one row: its D raw (finite) features and its label text, and where the file has them its target row
    /// (K values: probabilities or 0/1 tags; the label is then not read) and its weight.
    /// </summary>
    public void Append(ReadOnlySpan<float> features, string label, ReadOnlySpan<float> target = default, float weight = 1)
    {
        if (finished)
            throw new InvalidOperationException("the dataset is finished");
        if (features.Length != dim)
            throw new ArgumentException($"a row has {dim} features, got {features.Length}", nameof(features));
        if (target.Length != layout.TargetWidth)
            throw new ArgumentException($"a row has {layout.TargetWidth} targets, got {target.Length}", nameof(target));
        if (!float.IsFinite(weight) || weight < 0)
            throw new ArgumentException($"row {Rows + 1}: the weight {weight} is not finite and >= 0", nameof(weight));
        int k = targets.Kind switch
        {
            RowTargetKind.Labels => ClassOf(label),
            RowTargetKind.Probabilities => RowTargets.ArgMax(target),
            _ => 0, // tags: the label is unused
        };

        Rows++;
        double inverseN = 1.0 / Rows;
        for (int j = 0; j < dim; j++)
        {
            float x = features[j];
            if (!float.IsFinite(x))
                throw new ArgumentException($"row {Rows}, feature {j + 1}: {x} is not finite", nameof(features));
            double delta = x - mean[j];
            mean[j] += delta * inverseN;
            m2[j] += delta * (x - mean[j]);
        }
        features.CopyTo(blockX.AsSpan(inBlock * dim, dim));
        target.CopyTo(blockT.AsSpan(inBlock * target.Length, target.Length));
        if (layout.Weights)
            blockW[inBlock] = weight;
        blockY[inBlock++] = k;
        if (inBlock == blockRows)
            FlushBlock();
    }

    /// <summary>The stored index of a label: its place among the labels in order of first appearance.</summary>
    private int ClassOf(string label)
    {
        if (!classIndex.TryGetValue(label, out int k))
        {
            k = classes.Count;
            classIndex.Add(label, k);
            classes.Add(label);
        }
        return k;
    }

    /// <summary>Writes the last (partial) block and the footer, and points the preamble at the footer.</summary>
    public void Finish()
    {
        if (finished)
            throw new InvalidOperationException("the dataset is finished");
        if (Rows == 0)
            throw new InvalidOperationException("a dataset needs at least one row");
        if (inBlock > 0)
            FlushBlock();
        finished = true;

        long footerOffset = stream.Position - start;
        SgdFormat.WriteEnds(stream, start, Preamble(footerOffset), Footer());
    }

    private void FlushBlock()
    {
        var hash = new XxHash64();
        void Write(ReadOnlySpan<byte> part)
        {
            hash.Append(part);
            stream.Write(part);
        }
        Write(MemoryMarshal.AsBytes(blockX.AsSpan(0, inBlock * dim)));
        Write(MemoryMarshal.AsBytes(blockY.AsSpan(0, inBlock)));
        Write(MemoryMarshal.AsBytes(blockT.AsSpan(0, inBlock * layout.TargetWidth)));
        Write(MemoryMarshal.AsBytes(blockW.AsSpan(0, layout.Weights ? inBlock : 0)));
        Span<byte> checksum = stackalloc byte[SgdFormat.BlockChecksumBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, hash.GetCurrentHashAsUInt64());
        stream.Write(checksum);
        inBlock = 0;
    }

    private byte[] Footer()
    {
        using var body = new MemoryStream();
        using (var w = new BinaryWriter(body, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Rows);
            FileStrings.Write(w, labelName);
            foreach (string f in featureNames)
                FileStrings.Write(w, f);
            if (targets.Kind == RowTargetKind.Labels)
                SgdFormat.WriteClasses(w, classes);
            else
                SgdFormat.WriteClassesInOrder(w, classes);
            foreach (double m in mean)
                w.Write(centre ? m : 0.0); // the centre training subtracts
            foreach (double s in m2)
                w.Write(Math.Sqrt(s / Rows)); // population std
            if (Version == SgdFormat.TargetsVersion)
            {
                FileStrings.Write(w, RowTargets.FileName(targets.Kind));
                FileStrings.Write(w, targets.WeightColumn ?? "");
            }
        }
        return body.ToArray();
    }

    /// <summary>A .sgd file's header is written last, at its start: its output must seek (a file, not a pipe or a FIFO).</summary>
    internal static void RequireSeekable(Stream stream)
    {
        if (!stream.CanSeek)
            throw new ArgumentException("a .sgd file is finished by writing its header at its start, so it is written to a file, " +
                                        "not a pipe, FIFO or terminal");
    }
}
