using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Tests.Reference;

namespace SoftmaxGpu.Tests;

/// <summary>The fused gradient pass (and the sum of its partials) against the float64 reference.</summary>
public abstract partial class KernelTests
{
    // (B, D, K) of the batch; X has more rows than the batch, gathered in a shuffled order.
    public static TheoryData<int, int, int, double> FusedShapes => new()
    {
        { 37, 19, 7, 1.0 }, { 37, 19, 2, 1e4 }, { 37, 1, 7, 1.0 }, { 5, 3, 2, 1e30 }, { 1, 17, 3, 1.0 },
        { 70, 45, 11, 1e30 }, { 33, 8, 5, 1.0 }, { 70, 12, 3, 1e4 }, // D % 4 == 0: 16-byte loads
        { 9, 3001, 2, 1.0 }, // 2 rows a tile in 48 KiB: 4 pairs, so 16-thread groups share each dot over 4 lanes
    };

    [Theory]
    [MemberData(nameof(FusedShapes))]
    public void FusedStepMatchesReferenceGradientLossAndAccuracy(int b, int d, int k, double weightScale)
    {
        Gpu gpu = Gpu;
        int n = b + 9;
        var random = new Random(b * 101 + d * 7 + k);
        double[] x = Check.AsDevice(Check.Normal(random, n * d));
        double[] theta = Check.AsDevice(Check.Normal(random, k * d + k, weightScale));
        int[] labels = Enumerable.Range(0, n).Select(_ => random.Next(k)).ToArray();
        double[] soft = SoftTargets(random, n, k);
        int[] order = Enumerable.Range(0, n).OrderBy(_ => random.Next()).Take(b).ToArray();

        // The reference sees the gathered rows directly.
        double[] xb = order.SelectMany(r => x.Skip(r * d).Take(d)).ToArray();
        int[] yb = order.Select(r => labels[r]).ToArray();
        double[] sb = order.SelectMany(r => soft.Skip(r * k).Take(k)).ToArray();
        double[] weighted = WeightedTargets(random, soft, n, k); // rows summing to their weight, not 1
        double[] wb = order.SelectMany(r => weighted.Skip(r * k).Take(k)).ToArray();

        FusedStep fused = gpu.Kernels.FusedStep;
        FusedBatch batch = fused.Batch(b, d, k, 1f / b, 1f / b);
        if (d == 3001 && gpu.Kernels.Shape.ElementGroup == 16)
            Assert.Equal(4, batch.Lanes); // the case is there to run the shuffles: check it does
        using var xs = gpu.Accelerator.Allocate1D(Check.ToFloat(x));
        using var os = gpu.Accelerator.Allocate1D(order);
        using var ys = gpu.Accelerator.Allocate1D(labels);
        using var ts = gpu.Accelerator.Allocate1D(Check.ToFloat(soft));
        using var ws = gpu.Accelerator.Allocate1D(Check.ToFloat(weighted));
        using var th = gpu.Accelerator.Allocate1D(Check.ToFloat(theta));
        using var partials = gpu.Accelerator.Allocate1D<float>(7L * batch.PartialLength);
        using var grad = gpu.Accelerator.Allocate1D<float>(k * d + k);
        using var loss = gpu.Accelerator.Allocate1D<float>(Totals.LossLength);
        using var correctCount = gpu.Accelerator.Allocate1D<int>(1);

        foreach (string kind in new[] { "hard", "soft", "weighted" })
            foreach (int groups in new[] { 1, 3, 7 })
            {
                bool hard = kind == "hard";
                double[]? targets = hard ? null : kind == "soft" ? sb : wb;
                (double objective, double[] expected) = ReferenceMath.ObjectiveAndGradient(theta, xb, yb, targets, b, d, k, 0);
                double[] z = ReferenceMath.Logits(xb, theta[..(k * d)], theta[(k * d)..], b, d, k);
                int correct = ReferenceMath.Correct(z, ReferenceMath.Targets(yb, targets, b, k), b, k);

                loss.MemSetToZero();
                correctCount.MemSetToZero();
                ArrayView<float> tv = hard ? default : kind == "soft" ? ts.View : ws.View;
                int used = fused.Launch(xs.View, os.View, ys.View, tv, th.View, batch, partials.View, groups);
                gpu.Kernels.PartialSum.Launch(partials.View, used, batch.PartialLength, grad.View, loss.View, correctCount.View);
                double got = Totals.Read(loss.GetAsArray1D());

                string what = $"fused {kind} {b}×{d}×{k}, |W| ~ {weightScale:G2}, {groups} groups";
                Check.Close(expected, grad.GetAsArray1D(), 1e-5, 1e-4, $"∇ of {what}");
                Assert.True(double.IsFinite(got), $"{what}: loss {got} is not finite");
                Check.Close(objective, got, 1e-5, 1e-5, $"loss of {what}");
                Assert.Equal(correct, correctCount.GetAsArray1D()[0]);
            }
    }

    [Fact]
    public void FusedStepWithoutOrderReadsTheFirstRowsAndAccumulatesTotals()
    {
        Gpu gpu = Gpu;
        const int n = 29, d = 6, k = 4;
        var random = new Random(5);
        double[] x = Check.AsDevice(Check.Normal(random, n * d));
        double[] theta = Check.AsDevice(Check.Normal(random, k * d + k));
        int[] labels = Enumerable.Range(0, n).Select(_ => random.Next(k)).ToArray();
        (double objective, double[] expected) = ReferenceMath.ObjectiveAndGradient(theta, x, labels, null, n, d, k, 0);

        FusedStep fused = gpu.Kernels.FusedStep;
        FusedBatch batch = fused.Batch(n, d, k, 1f / n, 1f / n);
        using var xs = gpu.Accelerator.Allocate1D(Check.ToFloat(x));
        using var ys = gpu.Accelerator.Allocate1D(labels);
        using var th = gpu.Accelerator.Allocate1D(Check.ToFloat(theta));
        using var partials = gpu.Accelerator.Allocate1D<float>((long)fused.Groups(n, d, k) * batch.PartialLength);
        using var grad = gpu.Accelerator.Allocate1D<float>(k * d + k);
        using var loss = gpu.Accelerator.Allocate1D<float>(Totals.LossLength);
        using var correct = gpu.Accelerator.Allocate1D<int>(1);
        loss.MemSetToZero();
        correct.MemSetToZero();
        for (int pass = 0; pass < 2; pass++) // totals add up over passes; the gradient is overwritten
        {
            int used = fused.Launch(xs.View, default, ys.View, default, th.View, batch, partials.View);
            gpu.Kernels.PartialSum.Launch(partials.View, used, batch.PartialLength, grad.View, loss.View, correct.View);
        }
        Check.Close(expected, grad.GetAsArray1D(), 1e-5, 1e-4, "∇ of the first rows");
        Check.Close(2 * objective, Totals.Read(loss.GetAsArray1D()), 1e-5, 1e-5, "loss over two passes");
        double[] z = ReferenceMath.Logits(x, theta[..(k * d)], theta[(k * d)..], n, d, k);
        Assert.Equal(2 * ReferenceMath.Correct(z, ReferenceMath.Targets(labels, null, n, k), n, k), correct.GetAsArray1D()[0]);
    }
}

public abstract partial class KernelTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(17)]
    [InlineData(1000)]
    [InlineData(4097)]
    public void ShuffleIsAPermutationThatChangesWithTheEpoch(int n)
    {
        Gpu gpu = Gpu;
        using var order = gpu.Accelerator.Allocate1D<int>(n);
        var seen = new List<int[]>();
        for (int epoch = 1; epoch <= 3; epoch++)
        {
            gpu.Kernels.Shuffle.Launch(n, Shuffle.Key(7, epoch), order.View);
            int[] got = order.GetAsArray1D();
            Assert.Equal(Enumerable.Range(0, n), got.Order());
            seen.Add(got);
        }
        if (n >= 17)
        {
            Assert.NotEqual(seen[0], seen[1]);
            Assert.NotEqual(seen[1], seen[2]);
            int fixedPoints = seen[0].Where((row, i) => row == i).Count();
            Assert.True(fixedPoints < Math.Max(3, n / 20), $"{fixedPoints} of {n} rows stayed in place");
        }
    }
}
