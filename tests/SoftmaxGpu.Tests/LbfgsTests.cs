using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// L-BFGS (<see cref="LbfgsOptimizer"/>) where J's rounding is larger than its decrease near the optimum, as J summed
/// from float32 logits is on MNIST: it must go on to the optimum the exact objective has, not stop at the rounding.
/// </summary>
public sealed class LbfgsTests
{
    /// <summary>
    /// A seeded ill-conditioned quadratic J*(θ) = 1 + ½Σ a_i (θ_i − c_i)² (P = 2000 not a multiple of anything, a_i
    /// log-spaced from 1 to <paramref name="flattest"/>: L-BFGS converges slowly, as on MNIST; and P = 1.1 M, where the
    /// pairs are <see cref="GramCurvatureHistory"/>'s), whose J is measured with a relative error of
    /// up to <paramref name="noise"/> that changes with every float32 θ (a hash of its bits, like the rounding of a
    /// pass), its gradient exact. Each fit must end within 1e-7 of J*'s optimum 1, as the exact one does (4.5e-8).
    /// Measured here before the slopes measured the line search's and the stall rule's decrease: 4.4e-7 and 2.0e-6 above
    /// at noises of 1e-7 and 3e-7; with the slopes in the line search alone 9.1e-8 and 4.4e-7, in the stall rule alone
    /// 4.4e-7 and 2.2e-6; with both 5.6e-8 and 4.7e-8. At P = 1.1 M: 1.06e-6 before, 5.7e-8 now (3.7e-8 exact).
    /// </summary>
    [Theory]
    [InlineData(2000, 1e-4, 0)]
    [InlineData(2000, 1e-4, 1e-7)]
    [InlineData(2000, 1e-4, 3e-7)]
    [InlineData(1_100_000, 1e-3, 3e-7)] // beyond a million parameters: the bfloat16 pairs and their Gram matrix
    public void ReachesTheOptimumThroughJsRounding(int p, double flattest, double noise)
    {
        var random = new Random(7);
        double[] a = [.. Enumerable.Range(0, p).Select(i => Math.Pow(flattest, (double)i / (p - 1)))];
        double[] c = [.. Enumerable.Range(0, p).Select(_ => random.NextDouble() * 2 - 1)];
        var quadratic = new RoundedQuadratic(a, c, noise);
        using var optimizer = new LbfgsOptimizer(quadratic, new double[p]);
        (double[] theta, EpochOutcome last, int iterations) = CrossValidation.Fit(optimizer, LbfgsOptimizer.DefaultIterations, new TrainOptions());
        double gap = quadratic.Exact(theta) - 1;
        Assert.True(gap is >= 0 and <= 1e-7, $"J* {gap:E2} above its optimum after {iterations} iterations ({last.Converged})");
        Assert.NotNull(last.Converged); // stopped by its rule, not the cap
    }

    /// <summary>J*(θ) measured as J*·(1 + noise·u(θ)), u ∈ [−1, 1) a hash of θ's float32 bits; ∇J* exact.</summary>
    private sealed class RoundedQuadratic(double[] a, double[] c, double noise) : IObjective
    {
        public double Exact(double[] theta)
        {
            double j = 1;
            for (int i = 0; i < a.Length; i++)
                j += 0.5 * a[i] * (theta[i] - c[i]) * (theta[i] - c[i]);
            return j;
        }

        public (double J, double Loss, double Accuracy) Evaluate(double[] theta, double[] gradient)
        {
            ulong hash = 14695981039346656037; // FNV-1a over the float32 θ
            for (int i = 0; i < a.Length; i++)
            {
                gradient[i] = a[i] * (theta[i] - c[i]);
                hash = (hash ^ (uint)BitConverter.SingleToInt32Bits((float)theta[i])) * 1099511628211;
            }
            double u = (hash >> 11) * (1.0 / (1UL << 53)) * 2 - 1;
            double j = Exact(theta) * (1 + noise * u);
            return (j, j, 0);
        }
    }
}
