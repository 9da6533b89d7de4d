using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Tests.Reference;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// The multi-label loss (a sigmoid per tag, binary cross-entropy with logits) on every engine against the float64
/// reference: the forward pass at awkward sizes with logits up to 1e30, the gradient (and the reference's against
/// finite differences), and L-BFGS to the reference's optimum.
/// </summary>
public abstract class MultiLabelTests(AcceleratorFixture fixture)
{
    // (B, D, K): 600 and 613 rows give several reduction groups on the devices and two workers on the host engine.
    public static TheoryData<int, int, int> Shapes => new() { { 37, 19, 7 }, { 5, 3, 2 }, { 1, 17, 3 }, { 613, 33, 5 } };

    /// <summary>A seeded multi-label set: X [B, D] normal, each tag on with its own probability.</summary>
    private static (double[] X, double[] Y) Data(Random random, int b, int d, int k)
    {
        double[] x = Check.AsDevice(Check.Normal(random, b * d));
        double[] share = Enumerable.Range(0, k).Select(c => 0.15 + 0.7 * c / Math.Max(1, k - 1)).ToArray();
        double[] y = Enumerable.Range(0, b * k).Select(i => random.NextDouble() < share[i % k] ? 1.0 : 0.0).ToArray();
        return (x, y);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(1e4)]
    [InlineData(1e30)]
    public void TagProbabilitiesLossAndSubsetAccuracyMatchTheReference(double scale)
    {
        Gpu gpu = fixture.Gpu();
        foreach ((int b, int k) in new[] { (37, 7), (5, 2), (600, 5) })
        {
            var random = new Random(b * k);
            // Logits exactly Z: X = Z with D = K, W = I and b = 0 (every product is by 1 or 0, every sum adds zeros).
            double[] z = Check.AsDevice(Check.Normal(random, b * k, scale));
            (_, double[] y) = Data(random, b, 1, k);
            using var engine = new GradientEngine(gpu, SigmoidCrossEntropy.Instance, k, k, b, softTargets: true);
            engine.Weights.CopyFromCPU(Enumerable.Range(0, k * k).Select(i => i % (k + 1) == 0 ? 1f : 0f).ToArray());
            using var device = new DeviceSet(gpu.Accelerator, new EncodedSet(Check.ToFloat(z), new int[b], Check.ToFloat(y), b, k));
            var q = new float[b * k];
            engine.ResetTotals();
            engine.ForEachBlock(device.Features, b, default, device.Targets, 1f / b,
                (start, rows, _, outputs) => outputs.CopyToCPU(q.AsSpan(start * k, rows * k)));
            (double loss, long correct) = engine.ReadTotals();

            string what = $"multi-label forward, scale {scale:G2}, {b}×{k}";
            Check.Close(ReferenceMath.Sigmoid(z), q, 1e-7, 1e-6, $"{what}: σ(Z)");
            Assert.True(double.IsFinite(loss), $"{what}: loss {loss} is not finite");
            Check.Close(ReferenceMath.BinaryCrossEntropy(z, y, b), loss, 1e-6, 1e-6, $"{what}: loss");
            Assert.Equal(ReferenceMath.SubsetCorrect(z, y, b, k), correct);
        }
    }

    [Fact]
    public void TheLossOfHugeLogitsIsExact()
    {
        // z = ±1e30 against y: 0 where the sign agrees, 1e30 where it does not; nothing becomes inf or NaN.
        double[] z = [1e30, -1e30, 1e30, -1e30];
        double[] y = [1, 0, 0, 1];
        Assert.Equal(2e30, ReferenceMath.BinaryCrossEntropy(z, y, 1), 1e24);
        Gpu gpu = fixture.Gpu();
        using var engine = new GradientEngine(gpu, SigmoidCrossEntropy.Instance, 1, 4, 1, softTargets: true);
        using var device = new DeviceSet(gpu.Accelerator, new EncodedSet([0f], [0], Check.ToFloat(y), 1, 1));
        engine.Bias.CopyFromCPU(Check.ToFloat(z));
        engine.ResetTotals();
        engine.ForEachBlock(device.Features, 1, default, device.Targets, 1f, null);
        Assert.Equal(2e30, engine.ReadTotals().Loss, 1e24);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void TheGradientMatchesTheReference(int b, int d, int k)
    {
        Gpu gpu = fixture.Gpu();
        var random = new Random(100 * b + 10 * d + k);
        (double[] x, double[] y) = Data(random, b, d, k);
        double[] theta = Check.AsDevice(Check.Normal(random, k * d + k, 0.5));
        (double objective, double[] gradient) = ReferenceMath.MultiLabelObjectiveAndGradient(theta, x, y, b, d, k, 0);

        using var set = new DeviceSet(gpu.Accelerator, new EncodedSet(Check.ToFloat(x), new int[b], Check.ToFloat(y), b, d));
        // Both device paths where the fused pass fits (the host engine has one path), through a shuffled order too.
        bool fits = !gpu.Host && SigmoidCrossEntropy.Instance.FusedPass(gpu.Kernels).Fits(d, k);
        int[] reversed = Enumerable.Range(0, b).Reverse().ToArray();
        using var order = gpu.Accelerator.Allocate1D(reversed);
        foreach (bool fused in fits ? new[] { false, true } : [false])
            foreach (bool gathered in new[] { false, true })
            {
                using var engine = new GradientEngine(gpu, SigmoidCrossEntropy.Instance, d, k, b, fused, softTargets: true);
                Assert.Equal(fused, engine.Fused);
                engine.Theta.CopyFromCPU(Check.ToFloat(theta));
                engine.ResetTotals();
                engine.Gradient(set, gathered ? order.View : default, b, 1f / b);
                string what = $"multi-label {b}×{d}×{k}, fused {fused}, gathered {gathered}";
                Check.Close(gradient, engine.Grad.GetAsArray1D(), 1e-6, 1e-4, $"{what}: gradient");
                Check.Close(objective, engine.ReadTotals().Loss, 1e-6, 1e-5, $"{what}: loss");
            }
    }

    [Fact]
    public void TheReferenceGradientMatchesFiniteDifferences()
    {
        const int b = 13, d = 5, k = 4;
        const double lambda = 0.1, h = 1e-6;
        var random = new Random(9);
        (double[] x, double[] y) = Data(random, b, d, k);
        double[] theta = Check.Normal(random, k * d + k, 0.5);
        double J(double[] t) => ReferenceMath.MultiLabelObjectiveAndGradient(t, x, y, b, d, k, lambda).Objective;
        double[] numeric = Enumerable.Range(0, theta.Length).Select(i =>
        {
            double[] plus = (double[])theta.Clone(), minus = (double[])theta.Clone();
            plus[i] += h;
            minus[i] -= h;
            return (J(plus) - J(minus)) / (2 * h);
        }).ToArray();
        (_, double[] analytic) = ReferenceMath.MultiLabelObjectiveAndGradient(theta, x, y, b, d, k, lambda);
        Check.Close(numeric, analytic, 1e-7, 1e-5, "multi-label reference gradient vs finite differences");
    }

    /// <summary>
    /// Tags [b, k] of rows x [b, d] from a noisy linear teacher drawn from <paramref name="random"/>: tag c is on where the
    /// teacher's score of the row plus noise in [−0.5, 0.5) is positive, so the optimum is interior and informative.
    /// </summary>
    internal static double[] TeacherTags(Random random, double[] x, int b, int d, int k)
    {
        double[] teacher = Check.Normal(random, k * d);
        return [.. Enumerable.Range(0, b * k).Select(i =>
        {
            int r = i / k, c = i % k;
            double score = Enumerable.Range(0, d).Sum(j => teacher[c * d + j] * x[r * d + j]) + random.NextDouble() - 0.5;
            return score > 0 ? 1.0 : 0.0;
        })];
    }

    [Fact]
    public void LbfgsReachesTheReferenceOptimum()
    {
        Gpu gpu = fixture.Gpu();
        const int b = 300, d = 6, k = 4;
        var random = new Random(21);
        double[] x = Check.AsDevice(Check.Normal(random, b * d));
        double[] y = TeacherTags(random, x, b, d, k);
        var set = new EncodedSet(Check.ToFloat(x), new int[b], Check.ToFloat(y), b, d);
        TrainResult result = Trainer.Train(gpu, set, null, k,
            new TrainOptions { Optimizer = "lbfgs", Loss = SigmoidCrossEntropy.Instance });
        Assert.True(result.Converged, result.StopReason);

        double lambda = result.Plan.WeightDecay;
        (double objective, double[] gradient) = ReferenceMath.MultiLabelObjectiveAndGradient(
            result.Theta.Select(v => (double)v).ToArray(), x, y, b, d, k, lambda);
        Check.Close(objective, result.Objective!.Value, 0, 1e-6, "J at the returned θ, device vs reference");
        double norm = gradient.Max(Math.Abs);
        Assert.True(norm < 1e-4, $"‖∇J‖∞ = {norm:G3} at the returned θ: not the optimum");
    }
}

public sealed class CpuMultiLabelTests(CpuFixture fixture) : MultiLabelTests(fixture), IClassFixture<CpuFixture>;

public sealed class HostMultiLabelTests(HostFixture fixture) : MultiLabelTests(fixture), IClassFixture<HostFixture>;

public sealed class CudaMultiLabelTests(CudaFixture fixture) : MultiLabelTests(fixture), IClassFixture<CudaFixture>;

public sealed class OpenCLMultiLabelTests(OpenCLFixture fixture) : MultiLabelTests(fixture), IClassFixture<OpenCLFixture>;
