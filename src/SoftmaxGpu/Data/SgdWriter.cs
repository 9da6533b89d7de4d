using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace SoftmaxGpu.Data;

/// <summary>
/// Writes a .sgd dataset (layout in <see cref="SgdFormat"/>) in one pass onto a seekable stream: rows are
/// appended into one block buffer (R·D floats and R labels, the only memory that grows with the data), each
/// full block goes out with its checksum, and <see cref="Finish"/> writes the footer — N, names, classes and
/// the per-feature mean and std, accumulated row by row (Welford) — then patches the preamble's footer offset.
/// </summary>
public sealed class SgdWriter
{
    private readonly Stream stream;
    private readonly long start;
    private readonly string[] featureNames;
    private readonly string labelName;
    private readonly int dim;
    private readonly int blockRows;
    private readonly float[] blockX; // X: [R, D] row-major, the block being filled
    private readonly int[] blockY;   // y: [R], stored class indices
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
    public SgdWriter(Stream stream, string[] featureNames, string labelName, int blockRows = 0, bool centre = true)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("the .sgd writer copies float32 and int32 arrays as little-endian bytes");
        if (featureNames.Length < 1)
            throw new ArgumentException("a dataset needs at least one feature", nameof(featureNames));
        ArgumentOutOfRangeException.ThrowIfNegative(blockRows);
        this.stream = stream;
        this.featureNames = featureNames;
        this.labelName = labelName;
        this.centre = centre;
        dim = featureNames.Length;
        this.blockRows = blockRows == 0 ? SgdFormat.BlockRowsFor(dim) : blockRows;
        if (!SgdFormat.BlockFits(this.blockRows, dim))
            throw new ArgumentException(
                $"--block-rows {blockRows}: a block of {dim} features a row would exceed {SgdFormat.MaxBlockFeatureBytes >> 20} MiB; " +
                $"at most {SgdFormat.BlockRowsFor(dim)} rows");
        blockX = new float[(long)this.blockRows * dim];
        blockY = new int[this.blockRows];
        mean = new double[dim];
        m2 = new double[dim];
        start = stream.Position;
        stream.Write(SgdFormat.Preamble(dim, this.blockRows, footerOffset: 0)); // patched by Finish
    }

    /// <summary>N: rows appended so far.</summary>
    public long Rows { get; private set; }

    /// <summary>Distinct labels so far, in order of first appearance.</summary>
    public IReadOnlyList<string> Classes => classes;

    /// <summary>Appends one row: its D raw (finite) features and its label text.</summary>
    public void Append(ReadOnlySpan<float> features, string label)
    {
        if (finished)
            throw new InvalidOperationException("the dataset is finished");
        if (features.Length != dim)
            throw new ArgumentException($"a row has {dim} features, got {features.Length}", nameof(features));
        if (!classIndex.TryGetValue(label, out int k))
        {
            k = classes.Count;
            classIndex.Add(label, k);
            classes.Add(label);
        }

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
        blockY[inBlock++] = k;
        if (inBlock == blockRows)
            FlushBlock();
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
        byte[] preamble = SgdFormat.Preamble(dim, blockRows, footerOffset);
        SgdFormat.WriteEnds(stream, start, preamble, Footer());
    }

    private void FlushBlock()
    {
        ReadOnlySpan<byte> x = MemoryMarshal.AsBytes(blockX.AsSpan(0, inBlock * dim));
        ReadOnlySpan<byte> y = MemoryMarshal.AsBytes(blockY.AsSpan(0, inBlock));
        var hash = new XxHash64();
        hash.Append(x);
        hash.Append(y);
        Span<byte> checksum = stackalloc byte[SgdFormat.BlockChecksumBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(checksum, hash.GetCurrentHashAsUInt64());
        stream.Write(x);
        stream.Write(y);
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
            SgdFormat.WriteClasses(w, classes);
            foreach (double m in mean)
                w.Write(centre ? m : 0.0); // the centre training subtracts
            foreach (double s in m2)
                w.Write(Math.Sqrt(s / Rows)); // population std
        }
        return body.ToArray();
    }
}
