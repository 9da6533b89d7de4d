using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels.Sparse;
using SoftmaxGpu.Tests.Reference;

namespace SoftmaxGpu.Tests;

/// <summary>
/// The sparse linear layer's kernels (<see cref="CsrLogits"/>, <see cref="CscWeightGradient"/> through
/// <see cref="SparseLinear"/>) against the float64 reference, on seeded CSR blocks of awkward sizes with empty rows, a
/// row of one entry, a feature in every non-empty row, empty columns and rows of values ×1e30. Subclasses bind the
/// tests to one accelerator each.
/// </summary>
public abstract class SparseKernelTests(AcceleratorFixture fixture)
{
    // (rows, D, K): none a multiple of a group; K = 1 and K = 43 (more than a warp of 32, not a multiple of 4 or 16);
    // (1, 5, 3) is one empty row: a block of no entries (nnz = 0).
    public static TheoryData<int, int, int> Shapes => new() { { 37, 53, 7 }, { 37, 53, 1 }, { 37, 53, 43 }, { 5, 6, 2 }, { 1, 5, 3 } };

    public static TheoryData<int, int, int, bool> GradientShapes
    {
        get
        {
            var data = new TheoryData<int, int, int, bool>();
            foreach (var (rows, d, k) in new[] { (37, 53, 7), (37, 53, 1), (37, 53, 43), (5, 6, 2), (1, 5, 3) })
                foreach (bool float64 in new[] { true, false })
                    data.Add(rows, d, k, float64);
            return data;
        }
    }

    private Gpu Gpu => fixture.Gpu();

    /// <summary>A CSR block: rowStart [rows + 1] (from 0), columns [nnz] increasing in a row, values [nnz] as float32 sees them.</summary>
    private sealed record Csr(int Rows, int D, int[] RowStart, int[] Columns, double[] Values)
    {
        public float[] FloatValues => Check.ToFloat(Values);

        public CscCopy Csc => CscCopy.Of(RowStart, Columns, FloatValues, D);
    }

    /// <summary>Feature every non-empty row has; the last feature (and the middle one, for D ≥ 8) no row has.</summary>
    private const int Every = 1;

    /// <summary>
    /// Seeded rows of D features: rows 0 and 6, 17, 28, ... empty; row 1 only <see cref="Every"/>; rows 4, 13, 22, ...
    /// scaled by 1e30 (huge logits); the others about 30% dense. Needs D ≥ 3.
    /// </summary>
    private static Csr RandomCsr(Random random, int rows, int d)
    {
        var rowStart = new int[rows + 1];
        var columns = new List<int>();
        var values = new List<double>();
        for (int r = 0; r < rows; r++)
        {
            bool empty = r == 0 || r % 11 == 6;
            double scale = r % 9 == 4 ? 1e30 : 1;
            for (int j = 0; j < d && !empty; j++)
            {
                bool emptyColumn = j == d - 1 || (d >= 8 && j == d / 2);
                if (j == Every || (r != 1 && !emptyColumn && random.NextDouble() < 0.3))
                {
                    columns.Add(j);
                    values.Add(scale * Check.Normal(random, 1)[0]);
                }
            }
            rowStart[r + 1] = columns.Count;
        }
        return new Csr(rows, d, rowStart, [.. columns], Check.AsDevice([.. values]));
    }

    /// <summary>The reference's CSR for rows [first, first + count) of <paramref name="csr"/>, offsets from 0.</summary>
    private static Csr BlockOf(Csr csr, int first, int count)
    {
        int from = csr.RowStart[first], to = csr.RowStart[first + count];
        int[] rowStart = csr.RowStart.Skip(first).Take(count + 1).Select(s => s - from).ToArray();
        return new Csr(count, csr.D, rowStart, csr.Columns[from..to], csr.Values[from..to]);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void LogitsMatchReference(int rows, int d, int k)
    {
        Gpu gpu = Gpu;
        var random = new Random(1000 * rows + 10 * d + k);
        Csr csr = RandomCsr(random, rows, d);
        double[] theta = Check.AsDevice(Check.Normal(random, d * k + k));
        (double[] expected, double[] magnitude) = Reference(csr, theta, k);

        float[] z = RunLogits(gpu, csr.RowStart, csr.Columns, csr.FloatValues, theta, rows, d, k);
        Check.CloseToSums(expected, magnitude, z, 1e-6, 1e-5, $"Z = X·W + b [{rows}×{d}×{k}, nnz {csr.Columns.Length}]");
        if (rows > 4)
            Assert.Contains(z, v => Math.Abs(v) > 1e29); // row 4's values of 1e30 came through as huge logits
    }

    [Fact]
    public void LogitsOfABlockReadItsEntriesFromTheBlocksFirst()
    {
        Gpu gpu = Gpu;
        const int Rows = 37, D = 53, K = 7, First = 10, Count = 15;
        var random = new Random(11);
        Csr csr = RandomCsr(random, Rows, D);
        double[] theta = Check.AsDevice(Check.Normal(random, D * K + K));
        (double[] expected, double[] magnitude) = Reference(BlockOf(csr, First, Count), theta, K);

        // The block as a streamed upload: the set's own offsets, entries from the block's first.
        int from = csr.RowStart[First], to = csr.RowStart[First + Count];
        float[] z = RunLogits(gpu, csr.RowStart[First..(First + Count + 1)], csr.Columns[from..to],
            csr.FloatValues[from..to], theta, Count, D, K);
        Check.CloseToSums(expected, magnitude, z, 1e-6, 1e-5, $"Z of rows [{First}, {First + Count})");
    }

    /// <summary>
    /// Values of 1e30 against weights of 1e-30 give ordinary logits; against 1e10 they overflow, as the float64
    /// reference rounded to float does (±∞); and logits of 1e30 pass through.
    /// </summary>
    [Fact]
    public void HugeValuesGiveTheLogitsTheReferenceRoundsTo()
    {
        Gpu gpu = Gpu;
        const int D = 5, K = 2;
        int[] rowStart = [0, 1, 3, 5, 7];
        int[] columns = [0, /**/ 1, 2, /**/ 3, 4, /**/ 1, 3];
        double[] values = Check.AsDevice([1e30, /**/ 3e38, 3e38, /**/ 1e30, -2e30, /**/ 1e30, 1e30]);
        double[] theta = Check.AsDevice([
            1e10, -1e10,    // feature 0: 1e30·1e10 overflows float
            1, 1,           // feature 1: 3e38 + 3e38 overflows the sum
            1, -1,          // feature 2: and cancels in column 1
            1e-30, -3e-30,  // features 3, 4: tiny weights, ordinary logits
            2e-30, 5e-31,
            0.5, -0.25]);   // b
        var csr = new Csr(4, D, rowStart, columns, values);
        (double[] expected, double[] magnitude) = Reference(csr, theta, K);

        float[] z = RunLogits(gpu, rowStart, columns, csr.FloatValues, theta, 4, D, K);
        Check.CloseToSums(expected, magnitude, z, 1e-6, 1e-6, "Z of values up to 3e38");
        Assert.Equal([float.PositiveInfinity, float.NegativeInfinity, float.PositiveInfinity], z[..3]);
        Assert.All(z[4..6], v => Assert.InRange(v, -10f, 10f));
        Assert.All(z[6..8], v => Assert.InRange(v, 0.99e30f, 1.01e30f));
    }

    [Theory]
    [MemberData(nameof(GradientShapes))]
    public void WeightGradientMatchesReference(int rows, int d, int k, bool float64)
    {
        SparseLinear layer = Layer(Gpu, float64);
        var random = new Random(2000 * rows + 20 * d + k);
        Csr csr = RandomCsr(random, rows, d);
        double[] g = Check.AsDevice(Check.Normal(random, rows * k));
        float scale = 1f / rows;
        (double[] expected, double[] magnitude) = SparseReferenceMath.ParameterGradient(csr.RowStart, csr.Columns,
            csr.Values, g, rows, d, k, scale);

        float[] dTheta = RunGradient(Gpu, layer, csr.Csc, g, rows, d, k, scale);
        CheckGradient(expected, magnitude, dTheta, float64, $"dθ = [Gᵀ·X | Σ G]/{rows} [{rows}×{d}×{k}], float64 {float64}");
        Assert.All(dTheta[((d - 1) * k)..(d * k)], v => Assert.Equal(0f, v)); // the empty column
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void WeightGradientOfABlockUsesItsCscCopy(bool float64)
    {
        SparseLinear layer = Layer(Gpu, float64);
        const int Rows = 37, D = 53, K = 7, First = 10, Count = 15;
        var random = new Random(12);
        Csr csr = RandomCsr(random, Rows, D);
        double[] g = Check.AsDevice(Check.Normal(random, Count * K));
        Csr block = BlockOf(csr, First, Count);
        (double[] expected, double[] magnitude) = SparseReferenceMath.ParameterGradient(block.RowStart, block.Columns,
            block.Values, g, Count, D, K, 1);

        // The copy of the block's rows as the set holds them (offsets from rowStart[First], not 0).
        CscCopy csc = CscCopy.Of(csr.RowStart.AsSpan(First, Count + 1), csr.Columns, csr.FloatValues, D);
        float[] dTheta = RunGradient(Gpu, layer, csc, g, Count, D, K, 1f);
        CheckGradient(expected, magnitude, dTheta, float64, $"dθ of rows [{First}, {First + Count}), float64 {float64}");
    }

    /// <summary>Products of 1e30 and 1e10 overflow float but not float64: they cancel to 0 there, and a lone one rounds to ∞.</summary>
    [Fact]
    public void DoubleSumsCancelProductsBeyondFloatRange()
    {
        Gpu gpu = Gpu;
        if (!CscWeightGradient.HasFloat64(gpu.Accelerator))
            Assert.Skip($"{gpu.Accelerator.Name} has no float64");
        const int Rows = 2, D = 2, K = 1;
        var csr = new Csr(Rows, D, [0, 2, 3], [0, 1, 0], Check.AsDevice([1e30, 1e30, 1e30]));
        double[] g = [1e10, -1e10];
        (double[] expected, double[] magnitude) = SparseReferenceMath.ParameterGradient(csr.RowStart, csr.Columns,
            csr.Values, Check.AsDevice(g), Rows, D, K, 1);

        float[] dTheta = RunGradient(gpu, Layer(gpu, float64: true), csr.Csc, g, Rows, D, K, 1f);
        Check.CloseToSums(expected, magnitude, dTheta, 0, 1e-7, "dθ of 1e30·±1e10");
        Assert.Equal([0f, float.PositiveInfinity, 0f], dTheta);
    }

    /// <summary>Both kernels twice on the same block: the same bits (each output one sum in a fixed order).</summary>
    [Fact]
    public void RepeatedLaunchesGiveTheSameBits()
    {
        Gpu gpu = Gpu;
        const int Rows = 37, D = 53, K = 7;
        var random = new Random(13);
        Csr csr = RandomCsr(random, Rows, D);
        double[] theta = Check.AsDevice(Check.Normal(random, D * K + K));
        double[] g = Check.AsDevice(Check.Normal(random, Rows * K));
        Assert.Equal(RunLogits(gpu, csr.RowStart, csr.Columns, csr.FloatValues, theta, Rows, D, K),
            RunLogits(gpu, csr.RowStart, csr.Columns, csr.FloatValues, theta, Rows, D, K));
        SparseLinear layer = gpu.Kernels.SparseLinear;
        Assert.Equal(RunGradient(gpu, layer, csr.Csc, g, Rows, D, K, 0.5f), RunGradient(gpu, layer, csr.Csc, g, Rows, D, K, 0.5f));
    }

    private static (double[] Z, double[] Magnitude) Reference(Csr csr, double[] theta, int k) =>
        SparseReferenceMath.Logits(csr.RowStart, csr.Columns, csr.Values, theta[..(csr.D * k)], theta[(csr.D * k)..],
            csr.Rows, k);

    /// <summary>Float64 sums round once (|ref| bounds the error); float32 sums err by Σ|terms|.</summary>
    private static void CheckGradient(double[] expected, double[] magnitude, float[] got, bool float64, string what)
    {
        if (float64)
            Check.Close(expected, got, 1e-30, 2e-7, what);
        else
            Check.CloseToSums(expected, magnitude, got, 1e-7, 1e-5, what);
    }

    /// <summary>The kernel set's layer if it sums at that precision, else one made for the test.</summary>
    private static SparseLinear Layer(Gpu gpu, bool float64)
    {
        if (float64 && !CscWeightGradient.HasFloat64(gpu.Accelerator))
            Assert.Skip($"{gpu.Accelerator.Name} has no float64");
        return gpu.Kernels.SparseLinear.Float64 == float64
            ? gpu.Kernels.SparseLinear
            : new SparseLinear(gpu.Accelerator, gpu.Kernels.Shape, float64);
    }

    private static float[] RunLogits(Gpu gpu, int[] rowStart, int[] columns, float[] values, double[] theta,
        int rows, int d, int k)
    {
        Accelerator accelerator = gpu.Accelerator;
        using var rowStarts = accelerator.Allocate1D(rowStart);
        using var columnsBuffer = Upload(accelerator, columns);
        using var valuesBuffer = Upload(accelerator, values);
        using var thetaBuffer = accelerator.Allocate1D(Check.ToFloat(theta));
        using var z = accelerator.Allocate1D<float>(rows * k);
        z.View.MemSet(0x7f); // garbage: every element must be written
        gpu.Kernels.SparseLinear.Logits(rowStarts.View, View(columnsBuffer, columns), View(valuesBuffer, values),
            thetaBuffer.View, rows, d, k, z.View);
        return z.GetAsArray1D();
    }

    private static float[] RunGradient(Gpu gpu, SparseLinear layer, CscCopy csc, double[] g, int rows, int d, int k, float scale)
    {
        Accelerator accelerator = gpu.Accelerator;
        using var columnStart = accelerator.Allocate1D(csc.ColumnStart);
        using var rowIndex = Upload(accelerator, csc.Rows);
        using var values = Upload(accelerator, csc.Values);
        using var gs = accelerator.Allocate1D(Check.ToFloat(g));
        using var dTheta = accelerator.Allocate1D<float>(d * k + k);
        dTheta.View.MemSet(0x7f);
        layer.WeightGradient(columnStart.View, View(rowIndex, csc.Rows), View(values, csc.Values), gs.View, rows, d, k, scale, dTheta.View);
        return dTheta.GetAsArray1D();
    }

    /// <summary>
    /// <paramref name="data"/> on the device, in a buffer of at least one element: ILGPU 1.5.3's Allocate1D of an empty
    /// array throws NullReferenceException, and the half-made buffer then fails the accelerator's Dispose.
    /// </summary>
    private static MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(Accelerator accelerator, T[] data) where T : unmanaged
    {
        MemoryBuffer1D<T, Stride1D.Dense> buffer = accelerator.Allocate1D<T>(Math.Max(1, data.Length));
        if (data.Length > 0)
            buffer.View.SubView(0, data.Length).CopyFromCPU(data);
        return buffer;
    }

    /// <summary>The first <c>data.Length</c> elements of an <see cref="Upload"/>: the nnz = 0 block's empty views.</summary>
    private static ArrayView<T> View<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer, T[] data) where T : unmanaged =>
        buffer.View.SubView(0, data.Length);
}

public sealed class CpuSparseKernelTests(CpuFixture fixture) : SparseKernelTests(fixture), IClassFixture<CpuFixture>;

public sealed class CpuGroupsSparseKernelTests(CpuGroupsFixture fixture) : SparseKernelTests(fixture), IClassFixture<CpuGroupsFixture>;

public sealed class CudaSparseKernelTests(CudaFixture fixture) : SparseKernelTests(fixture), IClassFixture<CudaFixture>;

public sealed class OpenCLSparseKernelTests(OpenCLFixture fixture) : SparseKernelTests(fixture), IClassFixture<OpenCLFixture>;
