using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Tests.Reference;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// A head defined here alone, to show what a new head costs: the squared error of the softmax probabilities
/// (the Brier score), loss Σ_c (q_c − y_c)², q = softmax(z), and its gradient
/// ∂/∂z_j = 2·q_j·((q_j − y_j) − Σ_c q_c·(q_c − y_c)). Labels only (no target rows). Nothing in the library
/// names it: <see cref="HeadLoss{THead}"/> compiles it into the fused pass, the per-row kernels and the host engine.
/// </summary>
public readonly struct SquaredErrorHead : IHead
{
    public RowLoss Forward<TRow>(TRow z, TRow q, int k, TRow y, int label, bool soft, bool withLoss)
        where TRow : struct, IRowMemory
    {
        float max = z[0];
        for (int c = 1; c < k; c++)
            max = MathF.Max(max, z[c]);
        float sum = 0f;
        for (int c = 0; c < k; c++)
            sum += MathF.Exp(z[c] - max);
        for (int c = 0; c < k; c++)
            q[c] = MathF.Exp(z[c] - max) / sum;
        float loss = 0f;
        int predicted = 0;
        for (int c = 0; c < k; c++)
        {
            float error = q[c] - (c == label ? 1f : 0f);
            loss += error * error;
            if (q[c] > q[predicted])
                predicted = c;
        }
        return withLoss ? new RowLoss(loss, predicted == label) : default;
    }

    public void Backward<TRow>(TRow q, int k, TRow y, int label, bool soft, float scale, TRow g)
        where TRow : struct, IRowMemory
    {
        float inner = 0f; // Σ_c q_c·(q_c − y_c)
        for (int c = 0; c < k; c++)
            inner += q[c] * (q[c] - (c == label ? 1f : 0f));
        for (int c = 0; c < k; c++)
            g[c] = 2f * q[c] * ((q[c] - (c == label ? 1f : 0f)) - inner) * scale;
    }

    public static readonly HeadLoss<SquaredErrorHead> Loss = new("squared-error (test)");

    /// <summary>The float64 reference: J = mean_r Σ_c (q_rc − y_rc)² + (λ/2)‖W‖² and ∇J, from ReferenceMath's pieces.</summary>
    public static (double Objective, double[] Gradient) Reference(double[] theta, double[] x, int[] labels, int rows, int d, int k,
        double weightDecay)
    {
        double[] z = ReferenceMath.Logits(x, theta[..(k * d)], theta[(k * d)..], rows, d, k);
        (double[] q, _) = ReferenceMath.Softmax(z, rows, k);
        double[] y = ReferenceMath.Targets(labels, null, rows, k);
        double loss = 0;
        var g = new double[rows * k];
        for (int r = 0; r < rows; r++)
        {
            double inner = 0;
            for (int c = 0; c < k; c++)
            {
                double e = q[r * k + c] - y[r * k + c];
                loss += e * e / rows;
                inner += q[r * k + c] * e;
            }
            for (int c = 0; c < k; c++)
                g[r * k + c] = 2 * q[r * k + c] * ((q[r * k + c] - y[r * k + c]) - inner) / rows;
        }
        (double[] dw, double[] db) = ReferenceMath.ParameterGradient(g, x, rows, d, k);
        double objective = loss;
        for (int i = 0; i < k * d; i++)
        {
            objective += 0.5 * weightDecay * theta[i] * theta[i];
            dw[i] += weightDecay * theta[i];
        }
        return (objective, [.. dw, .. db]);
    }
}

/// <summary>The test-only head trains iris on every engine to a stationary point of its reference objective.</summary>
public abstract class SquaredErrorHeadTests(AcceleratorFixture fixture)
{

    [Fact]
    public void ATestOnlyHeadTrainsIrisWithLbfgs()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = TrainingTests.Iris();
        var options = new TrainOptions { Optimizer = "lbfgs", Loss = SquaredErrorHead.Loss };
        TrainResult result = Trainer.Train(gpu, iris, null, k, options);
        double[] x = iris.Features.Select(v => (double)v).ToArray();
        double[] theta = result.Theta.Select(v => (double)v).ToArray();
        (double j, double[] gradient) = SquaredErrorHead.Reference(theta, x, iris.Labels, iris.Rows, iris.Dim, k,
            result.Plan.WeightDecay);
        Check.Close(j, result.Objective!.Value, 1e-6, 1e-5, "J on the device vs the reference at the trained θ");
        Assert.True(gradient.Max(Math.Abs) < 1e-4, $"‖∇J‖∞ = {gradient.Max(Math.Abs):G3} at the trained θ: not a stationary point ({result.StopReason})");
        Assert.True(result.History[^1].TrainAccuracy > 0.95, $"accuracy {result.History[^1].TrainAccuracy:F4}");

        // The fused pass and the per-row kernels compute the same J (the host engine has one path).
        if (!gpu.Host)
            foreach (bool fused in new[] { true, false })
            {
                TrainResult path = Trainer.Train(gpu, iris, null, k, options with { Fused = fused });
                Check.Close(result.Objective.Value, path.Objective!.Value, 0, 1e-6, $"J, fused {fused}");
            }
    }
}

public sealed class CpuSquaredErrorHeadTests(CpuFixture fixture) : SquaredErrorHeadTests(fixture), IClassFixture<CpuFixture>;

public sealed class HostSquaredErrorHeadTests(HostFixture fixture) : SquaredErrorHeadTests(fixture), IClassFixture<HostFixture>;

public sealed class CudaSquaredErrorHeadTests(CudaFixture fixture) : SquaredErrorHeadTests(fixture), IClassFixture<CudaFixture>;

public sealed class OpenCLSquaredErrorHeadTests(OpenCLFixture fixture) : SquaredErrorHeadTests(fixture), IClassFixture<OpenCLFixture>;

/// <summary>The test-only head's float64 reference against central differences (no device).</summary>
public sealed class SquaredErrorReferenceTests
{
    [Fact]
    public void TheReferenceGradientIsTheFiniteDifferenceOfItsObjective()
    {
        var random = new Random(2);
        const int rows = 11, d = 3, k = 4;
        double[] x = Check.Normal(random, rows * d);
        int[] labels = Enumerable.Range(0, rows).Select(_ => random.Next(k)).ToArray();
        double[] theta = Check.Normal(random, k * d + k);
        (_, double[] analytic) = SquaredErrorHead.Reference(theta, x, labels, rows, d, k, 0.1);
        var numeric = new double[theta.Length];
        for (int i = 0; i < theta.Length; i++)
        {
            double[] plus = (double[])theta.Clone(), minus = (double[])theta.Clone();
            plus[i] += 1e-6;
            minus[i] -= 1e-6;
            numeric[i] = (SquaredErrorHead.Reference(plus, x, labels, rows, d, k, 0.1).Objective
                          - SquaredErrorHead.Reference(minus, x, labels, rows, d, k, 0.1).Objective) / 2e-6;
        }
        Check.Close(numeric, analytic, 1e-7, 1e-5, "reference gradient vs central differences");
    }
}
