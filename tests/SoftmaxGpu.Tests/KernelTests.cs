using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Tests.Reference;

namespace SoftmaxGpu.Tests;

/// <summary>
/// Every kernel against the float64 reference on seeded inputs of awkward sizes (not multiples of any
/// group or tile), with logits up to 1e30. Subclasses bind the tests to one accelerator each.
/// </summary>
public abstract partial class KernelTests(AcceleratorFixture fixture)
{
    // (B, D, K): rows, features, classes.
    public static TheoryData<int, int, int> Shapes => new() { { 37, 19, 7 }, { 37, 19, 2 }, { 37, 1, 7 }, { 5, 3, 2 }, { 1, 17, 3 } };

    // Products that cross several (4T)×(4T) blocks of C (16×16 under the 16-thread CPU preset) and several
    // steps along P in every dimension, none a multiple of 4 or 16: Z is B×K over D, dW is K×D over B.
    public static TheoryData<int, int, int> ProductShapes => new(Shapes) { { 70, 45, 33 }, { 33, 70, 45 } };

    public static TheoryData<double> LogitScales => new() { 1.0, 1e4, 1e30 };

    private Gpu Gpu => fixture.Gpu();

    [Fact]
    public void EveryKernelCompilesForThisBackend()
    {
        Gpu gpu = Gpu;
        gpu.Kernels.CompileAll(); // training: every variant the kernel set can launch, the tiled product included
        _ = new Ceilings(gpu.Accelerator, gpu.Kernels.Shape); // bench
        _ = new Synthetic(gpu.Accelerator, gpu.Kernels.Shape);
        Assert.Null(Backends.WhyUnusable(gpu.Accelerator, gpu.Kernels));
        Assert.Equal(gpu.Accelerator.AcceleratorType == ILGPU.Runtime.AcceleratorType.OpenCL, gpu.Kernels.Shape.Portable);
    }

    [Theory]
    [MemberData(nameof(ProductShapes))]
    public void MatMulComputesLogitsWithBias(int b, int d, int k)
    {
        Gpu gpu = Gpu;
        var random = new Random(1000 * b + 10 * d + k);
        double[] x = Check.AsDevice(Check.Normal(random, b * d));
        double[] w = Check.AsDevice(Check.Normal(random, k * d));
        double[] bias = Check.AsDevice(Check.Normal(random, k));
        double[] expected = ReferenceMath.Logits(x, w, bias, b, d, k);

        using var xs = gpu.Accelerator.Allocate1D(Check.ToFloat(x));
        using var ws = gpu.Accelerator.Allocate1D(Check.ToFloat(w));
        using var bs = gpu.Accelerator.Allocate1D(Check.ToFloat(bias));
        using var z = gpu.Accelerator.Allocate1D<float>(b * k);
        gpu.Kernels.MatMul.Launch(xs.View, Strides.RowMajor(d), ws.View, Strides.Transposed(d), bs.View, b, k, d, z.View);
        Check.Close(expected, z.GetAsArray1D(), 1e-5, 1e-5, $"Z = X·Wᵀ + b [{b}×{d}×{k}]");
    }

    [Theory]
    [MemberData(nameof(ProductShapes))]
    public void MatMulComputesWeightGradientThroughTransposedStrides(int b, int d, int k) =>
        CheckWeightGradient(b, d, k, slices: 1);

    [Theory]
    [InlineData(70, 45, 11, 2)]
    [InlineData(70, 45, 11, 5)]
    [InlineData(9, 19, 7, 5)] // more slices than tile steps: the extra slices are dropped
    public void MatMulSplitAlongPAddsTheSlicesPartials(int b, int d, int k, int slices) =>
        CheckWeightGradient(b, d, k, slices);

    /// <summary>dW = Gᵀ·X through transposed strides, with P split into <paramref name="slices"/> slices.</summary>
    private void CheckWeightGradient(int b, int d, int k, int slices)
    {
        Gpu gpu = Gpu;
        var random = new Random(7 + b * d * k + slices);
        double[] g = Check.AsDevice(Check.Normal(random, b * k));
        double[] x = Check.AsDevice(Check.Normal(random, b * d));
        (double[] dw, _) = ReferenceMath.ParameterGradient(g, x, b, d, k);

        using var gs = gpu.Accelerator.Allocate1D(Check.ToFloat(g));
        using var xs = gpu.Accelerator.Allocate1D(Check.ToFloat(x));
        using var result = gpu.Accelerator.Allocate1D<float>(k * d);
        using var workspace = gpu.Accelerator.Allocate1D<float>((long)slices * k * d);
        gpu.Kernels.MatMul.Launch(gs.View, Strides.Transposed(k), xs.View, Strides.RowMajor(d), default, k, d, b,
            result.View, slices > 1 ? workspace.View : default, slices);
        Check.Close(dw, result.GetAsArray1D(), 1e-5, 1e-5, $"dW = Gᵀ·X in {slices} slice(s) [{b}×{d}×{k}]");
    }

    [Theory]
    [MemberData(nameof(LogitScales))]
    public void SoftmaxIsStableAndMatchesReference(double scale)
    {
        Gpu gpu = Gpu;
        foreach ((int b, int k) in new[] { (37, 7), (37, 2), (3, 33), (2, 1) })
        {
            double[] z = Check.AsDevice(Check.Normal(new Random(b * k), b * k, scale));
            (double[] q, double[] lse) = ReferenceMath.Softmax(z, b, k);
            (float[] gotQ, float[] gotLse) = RunSoftmax(gpu, z, b, k);

            Check.Close(q, gotQ, 1e-6, 1e-4, $"Q, scale {scale:G2}, {b}×{k}");
            Check.Close(lse, gotLse, 1e-5, 1e-6, $"logsumexp, scale {scale:G2}, {b}×{k}");
            for (int r = 0; r < b; r++)
                Assert.InRange(gotQ.Skip(r * k).Take(k).Sum(), 1 - 1e-5, 1 + 1e-5);
        }
    }

    [Fact]
    public void SoftmaxAndLossOfEqualHugeLogitsAreExact()
    {
        Gpu gpu = Gpu;
        (float[] q, float[] lse) = RunSoftmax(gpu, [1e30, 1e30, 1e30, 1e30, -1e30], 1, 5);
        Check.Close([0.25, 0.25, 0.25, 0.25, 0], q, 1e-7, 1e-6, "Q of [1e30 ×4, −1e30]");
        Assert.True(float.IsFinite(lse[0]));

        // loss = −log 0.25 even though 1e30 + log 4 rounds to 1e30 in float32.
        using var z = gpu.Accelerator.Allocate1D([1e30f, 1e30f, 1e30f, 1e30f, -1e30f]);
        using var q2 = gpu.Accelerator.Allocate1D<float>(5);
        using var stats = gpu.Accelerator.Allocate1D<float>(2);
        using var y = gpu.Accelerator.Allocate1D([2]);
        using var loss = gpu.Accelerator.Allocate1D<float>(Totals.LossLength);
        using var correct = gpu.Accelerator.Allocate1D<int>(1);
        loss.MemSetToZero();
        correct.MemSetToZero();
        gpu.Kernels.Softmax.Launch(z.View, 1, 5, q2.View, stats.View);
        gpu.Kernels.CrossEntropy.Launch(z.View, stats.View, y.View, default, 1, 5, 1f, loss.View, correct.View);
        Check.Close(Math.Log(4), Totals.Read(loss.GetAsArray1D()), 1e-6, 1e-6, "loss of a uniform row at 1e30");
    }

    private static (float[] Q, float[] Lse) RunSoftmax(Gpu gpu, double[] z, int b, int k)
    {
        using var zs = gpu.Accelerator.Allocate1D(Check.ToFloat(z));
        using var q = gpu.Accelerator.Allocate1D<float>(b * k);
        using var stats = gpu.Accelerator.Allocate1D<float>(2 * b);
        gpu.Kernels.Softmax.Launch(zs.View, b, k, q.View, stats.View);
        float[] s = stats.GetAsArray1D();
        return (q.GetAsArray1D(), Enumerable.Range(0, b).Select(r => (float)((double)s[2 * r] + s[2 * r + 1])).ToArray());
    }

    [Theory]
    [MemberData(nameof(LogitScales))]
    public void CrossEntropyAndAccuracyMatchReference(double scale)
    {
        Gpu gpu = Gpu;
        foreach ((int b, int k) in new[] { (37, 7), (37, 2), (5, 3), (600, 5) }) // 600 rows: several groups
        {
            var random = new Random(b + k);
            double[] z = Check.AsDevice(Check.Normal(random, b * k, scale));
            int[] labels = Enumerable.Range(0, b).Select(_ => random.Next(k)).ToArray();
            double[] soft = SoftTargets(random, b, k);
            double[] weighted = WeightedTargets(random, soft, b, k);
            (_, double[] lse) = ReferenceMath.Softmax(z, b, k);
            double[] stats = RowStats(z, b, k);

            foreach (double[]? targets in new[] { null, soft, weighted })
            {
                double[] y = ReferenceMath.Targets(labels, targets, b, k);
                double expected = ReferenceMath.CrossEntropy(z, lse, y, b, k);
                int correct = ReferenceMath.Correct(z, y, b, k);

                using var zs = gpu.Accelerator.Allocate1D(Check.ToFloat(z));
                using var lses = gpu.Accelerator.Allocate1D(Check.ToFloat(stats));
                using var ys = gpu.Accelerator.Allocate1D(labels);
                using var ts = gpu.Accelerator.Allocate1D(Check.ToFloat(targets ?? [0]));
                using var loss = gpu.Accelerator.Allocate1D<float>(Totals.LossLength);
                using var correctCount = gpu.Accelerator.Allocate1D<int>(1);
                loss.MemSetToZero();
                correctCount.MemSetToZero();
                ArrayView<float> tv = targets is null ? default : ts.View;
                gpu.Kernels.CrossEntropy.Launch(zs.View, lses.View, ys.View, tv, b, k, 1f / b, loss.View, correctCount.View);
                double got = Totals.Read(loss.GetAsArray1D());

                string what = $"{(targets is null ? "hard" : targets == soft ? "soft" : "weighted")} cross-entropy, scale {scale:G2}, {b}×{k}";
                Assert.True(double.IsFinite(got), $"{what}: loss {got} is not finite");
                Check.Close(expected, got, 1e-5, 1e-5, what);
                Assert.Equal(correct, correctCount.GetAsArray1D()[0]);
            }
        }
    }

    [Fact]
    public void TotalsKeepWhatAFloatSumLoses()
    {
        Gpu gpu = Gpu;
        // 4097 group partials [loss, correct]: a loss of 1 then 4096 of 1e-8 (each below half an ulp of 1, so a
        // float running sum stays at 1), and counts of 2²⁰ with one odd count, whose total passes 2²⁴.
        const int groups = 4097;
        var partials = new float[2 * groups];
        long expectedCount = 0;
        double expectedLoss = 0;
        for (int g = 0; g < groups; g++)
        {
            partials[2 * g] = g == 0 ? 1f : 1e-8f;
            partials[2 * g + 1] = g == 1 ? 3f : g < 40 ? 1 << 20 : 0f;
            expectedLoss += partials[2 * g];
            expectedCount += (long)partials[2 * g + 1];
        }
        using var ps = gpu.Accelerator.Allocate1D(partials);
        using var loss = gpu.Accelerator.Allocate1D<float>(Totals.LossLength);
        using var correct = gpu.Accelerator.Allocate1D<int>(1);
        loss.MemSetToZero();
        correct.MemSetToZero();
        for (int launch = 0; launch < 2; launch++)
            gpu.Kernels.PartialSum.Launch(ps.View, groups, 2, default, loss.View, correct.View);
        Assert.True(2 * expectedCount > 1 << 24 && 2 * expectedCount % 2 == 0 && expectedCount % 2 == 1);
        Assert.Equal(2 * expectedCount, correct.GetAsArray1D()[0]);
        float[] pair = loss.GetAsArray1D();
        Check.Close(2 * expectedLoss, Totals.Read(pair), 1e-12, 1e-12, $"compensated loss total ({pair[0]:R}, {pair[1]:R})");
    }

    /// <summary>(max, log Σ exp(z − max)) per row, the softmax kernel's row stats, in float64.</summary>
    private static double[] RowStats(double[] z, int b, int k)
    {
        var stats = new double[2 * b];
        for (int r = 0; r < b; r++)
        {
            double max = z.Skip(r * k).Take(k).Max();
            stats[2 * r] = max;
            stats[2 * r + 1] = Math.Log(z.Skip(r * k).Take(k).Sum(v => Math.Exp(v - max)));
        }
        return stats;
    }

    private static double[] SoftTargets(Random random, int b, int k)
    {
        var y = new double[b * k];
        for (int r = 0; r < b; r++)
        {
            double sum = 0;
            for (int c = 0; c < k; c++)
                sum += y[r * k + c] = random.Next(3) == 0 ? 0 : (float)random.NextDouble();
            if (sum == 0)
                y[r * k] = sum = 1;
            for (int c = 0; c < k; c++)
                y[r * k + c] = (float)(y[r * k + c] / sum);
        }
        return y;
    }

    /// <summary>
    /// Soft targets times a row weight, so rows do NOT sum to 1 (as class and sample weights make them): weights in
    /// [0, 4), every seventh row weighted 0 (its targets all zero).
    /// </summary>
    internal static double[] WeightedTargets(Random random, double[] soft, int b, int k)
    {
        var y = new double[b * k];
        for (int r = 0; r < b; r++)
        {
            double weight = r % 7 == 3 ? 0 : 4 * random.NextDouble();
            for (int c = 0; c < k; c++)
                y[r * k + c] = (float)(weight * soft[r * k + c]);
        }
        return y;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GradientAndBiasGradientMatchReference(int b, int d, int k)
    {
        _ = d;
        Gpu gpu = Gpu;
        var random = new Random(b * 31 + k);
        double[] z = Check.AsDevice(Check.Normal(random, b * k, 3));
        (double[] q, _) = ReferenceMath.Softmax(z, b, k);
        q = Check.AsDevice(q);
        int[] labels = Enumerable.Range(0, b).Select(_ => random.Next(k)).ToArray();
        double[] soft = SoftTargets(random, b, k);
        double[] weighted = WeightedTargets(random, soft, b, k);

        foreach (double[]? targets in new[] { null, soft, weighted })
        {
            double[] g = ReferenceMath.LogitGradient(q, ReferenceMath.Targets(labels, targets, b, k), b);
            (_, double[] db) = ReferenceMath.ParameterGradient(g, new double[b], b, 1, k);

            using var qs = gpu.Accelerator.Allocate1D(Check.ToFloat(q));
            using var ys = gpu.Accelerator.Allocate1D(labels);
            using var ts = gpu.Accelerator.Allocate1D(Check.ToFloat(targets ?? [0]));
            using var gs = gpu.Accelerator.Allocate1D<float>(b * k);
            using var sums = gpu.Accelerator.Allocate1D<float>(k);
            gpu.Kernels.Gradient.Launch(qs.View, ys.View, targets is null ? default : ts.View, b, k, gs.View);
            gpu.Kernels.ColumnSum.Launch(gs.View, b, k, sums.View);

            string kind = targets is null ? "hard" : targets == soft ? "soft" : "weighted";
            Check.Close(g, gs.GetAsArray1D(), 1e-7, 1e-5, $"G = (Q − Y)/B, {kind}, {b}×{k}");
            Check.Close(db, sums.GetAsArray1D(), 1e-6, 1e-5, $"db = Σ G, {kind}, {b}×{k}");
        }
    }

    [Theory]
    [InlineData(1000, 7)]
    [InlineData(333, 40)]
    public void ColumnSumOfATallMatrixAddsEveryChunk(int rows, int k)
    {
        Gpu gpu = Gpu;
        double[] g = Check.AsDevice(Check.Normal(new Random(rows + k), rows * k));
        var expected = new double[k];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < k; c++)
                expected[c] += g[r * k + c];
        using var gs = gpu.Accelerator.Allocate1D(Check.ToFloat(g));
        using var sums = gpu.Accelerator.Allocate1D<float>(k);
        gpu.Kernels.ColumnSum.Launch(gs.View, rows, k, sums.View);
        Check.Close(expected, sums.GetAsArray1D(), 1e-4, 1e-5, $"column sums of {rows}×{k}");
    }

    [Fact]
    public void GatherRowsAndArgmaxFollowTheIndexList()
    {
        Gpu gpu = Gpu;
        const int n = 23, d = 5, k = 6;
        var random = new Random(3);
        double[] x = Check.AsDevice(Check.Normal(random, n * d));
        int[] order = Enumerable.Range(0, n).Reverse().Where(i => i % 3 != 0).ToArray();
        using var xs = gpu.Accelerator.Allocate1D(Check.ToFloat(x));
        using var os = gpu.Accelerator.Allocate1D(order);
        using var dst = gpu.Accelerator.Allocate1D<float>(order.Length * d);
        gpu.Kernels.GatherRows.Launch(xs.View, os.View, d, dst.View);
        double[] expected = order.SelectMany(r => x.Skip(r * d).Take(d)).ToArray();
        Check.Close(expected, dst.GetAsArray1D(), 0, 0, "gathered rows");

        double[] scores = Check.AsDevice(Check.Normal(random, n * k));
        using var ss = gpu.Accelerator.Allocate1D(Check.ToFloat(scores));
        using var predicted = gpu.Accelerator.Allocate1D<int>(n);
        gpu.Kernels.Argmax.Launch(ss.View, n, k, predicted.View);
        Assert.Equal(Enumerable.Range(0, n).Select(r => ReferenceMath.ArgMax(scores, r * k, k)), predicted.GetAsArray1D());
    }

    [Theory]
    [InlineData(false, 0.0f)]
    [InlineData(true, 0.05f)]
    public void SgdMatchesReferenceOverSeveralSteps(bool nesterov, float weightDecay)
    {
        Gpu gpu = Gpu;
        const int count = 29, penalized = 23;
        var random = new Random(11);
        double[] theta = Check.AsDevice(Check.Normal(random, count));
        double[] velocity = new double[count];
        using var t = gpu.Accelerator.Allocate1D(Check.ToFloat(theta));
        using var v = gpu.Accelerator.Allocate1D<float>(count);
        using var g = gpu.Accelerator.Allocate1D<float>(count);
        v.MemSetToZero();
        for (int step = 0; step < 4; step++)
        {
            double[] grad = Check.AsDevice(Check.Normal(random, count));
            g.CopyFromCPU(Check.ToFloat(grad));
            ReferenceMath.SgdStep(theta, grad, velocity, 0.1, 0.9, nesterov, weightDecay, penalized);
            gpu.Kernels.Sgd.Launch(g.View, new SgdParameters(0.1f, 0.9f, weightDecay, nesterov, penalized), v.View, t.View);
        }
        Check.Close(theta, t.GetAsArray1D(), 1e-6, 1e-5, $"SGD theta (nesterov {nesterov}, λ {weightDecay})");
    }

    [Fact]
    public void AdamMatchesReferenceOverSeveralSteps()
    {
        Gpu gpu = Gpu;
        const int count = 29, penalized = 23;
        var random = new Random(12);
        double[] theta = Check.AsDevice(Check.Normal(random, count));
        double[] m = new double[count], v = new double[count];
        using var t = gpu.Accelerator.Allocate1D(Check.ToFloat(theta));
        using var ms = gpu.Accelerator.Allocate1D<float>(count);
        using var vs = gpu.Accelerator.Allocate1D<float>(count);
        using var g = gpu.Accelerator.Allocate1D<float>(count);
        ms.MemSetToZero();
        vs.MemSetToZero();
        for (int step = 1; step <= 5; step++)
        {
            double[] grad = Check.AsDevice(Check.Normal(random, count));
            g.CopyFromCPU(Check.ToFloat(grad));
            ReferenceMath.AdamStep(theta, grad, m, v, step, 0.01, 0.9, 0.999, 1e-8, 0.01, penalized);
            gpu.Kernels.Adam.Launch(g.View, new AdamParameters(0.01f, 0.9f, 0.999f, 1e-8f, 0.01f, step, penalized),
                ms.View, vs.View, t.View);
        }
        Check.Close(theta, t.GetAsArray1D(), 1e-6, 1e-5, "Adam theta");
    }
}

public sealed class CpuKernelTests(CpuFixture fixture) : KernelTests(fixture), IClassFixture<CpuFixture>;

public sealed class CpuGroupsKernelTests(CpuGroupsFixture fixture) : KernelTests(fixture), IClassFixture<CpuGroupsFixture>;

public sealed class CudaKernelTests(CudaFixture fixture) : KernelTests(fixture), IClassFixture<CudaFixture>;

public sealed class OpenCLKernelTests(OpenCLFixture fixture) : KernelTests(fixture), IClassFixture<OpenCLFixture>;
