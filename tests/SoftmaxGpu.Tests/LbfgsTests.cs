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
    /// pass), its gradient exact. Each fit must end within <paramref name="within"/> of J*'s optimum 1: 1e-7 at P = 2000,
    /// as the exact one does (4.5e-8). Measured here before the slopes measured the line search's and the stall rule's
    /// decrease: 4.4e-7 and 2.0e-6 above at noises of 1e-7 and 3e-7; with the slopes in the line search alone 9.1e-8 and
    /// 4.4e-7, in the stall rule alone 4.4e-7 and 2.2e-6; with both 5.6e-8 and 4.7e-8. At P = 1.1 M: 1.06e-6 before,
    /// 5.7e-8 after (3.7e-8 exact), with H₀ = (sᵀy / yᵀy)·I; with the diagonal H₀ the Gram history has since, 1.15e-7,
    /// stopped by ‖∇J‖∞ ≤ 1e-6 after 199 iterations (exact: 1.6e-8 after 217; at noise 1e-7, 1.7e-8) — a stop the
    /// gradient certifies, not the rounding's, so the bound there is 2.5e-7, still a quarter of the rounding's stop.
    /// </summary>
    [Theory]
    [InlineData(2000, 1e-4, 0, 1e-7)]
    [InlineData(2000, 1e-4, 1e-7, 1e-7)]
    [InlineData(2000, 1e-4, 3e-7, 1e-7)]
    [InlineData(1_100_000, 1e-3, 3e-7, 2.5e-7)] // beyond a million parameters: the bfloat16 pairs and their Gram matrix
    public void ReachesTheOptimumThroughJsRounding(int p, double flattest, double noise, double within)
    {
        var random = new Random(7);
        double[] a = [.. Enumerable.Range(0, p).Select(i => Math.Pow(flattest, (double)i / (p - 1)))];
        double[] c = [.. Enumerable.Range(0, p).Select(_ => random.NextDouble() * 2 - 1)];
        var quadratic = new RoundedQuadratic(a, c, noise);
        using var optimizer = new LbfgsOptimizer(quadratic, new double[p]);
        (double[] theta, EpochOutcome last, int iterations) = CrossValidation.Fit(optimizer, LbfgsOptimizer.DefaultIterations, new TrainOptions());
        double gap = quadratic.Exact(theta) - 1;
        Assert.True(gap >= 0 && gap <= within, $"J* {gap:E2} above its optimum after {iterations} iterations ({last.Converged})");
        Assert.NotNull(last.Converged); // stopped by its rule, not the cap
    }

    /// <summary>
    /// H₀'s diagonal (<see cref="CurvatureHistory"/>'s Gilbert–Lemaréchal update) against the float64 reference written
    /// with matrices: B = c·D⁻¹ with c = yᵀDy / sᵀy, the BFGS update B⁺ = B + yyᵀ/sᵀy − B·s·sᵀ·B / sᵀBs in full, and D⁺ the
    /// inverse of B⁺'s diagonal. Seeded pairs of awkward length (not a multiple of a vector), scales over eight decades,
    /// one entry of s zero (its scale only rescaled by 1/c).
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(37)]
    public void DiagonalUpdateIsTheDiagonalOfTheBfgsUpdate(int p)
    {
        var random = new Random(20261207 + p);
        double[] d = [.. Enumerable.Range(0, p).Select(_ => Math.Pow(10, random.NextDouble() * 8 - 4))];
        double[] s = Check.Normal(random, p);
        double[] y = [.. s.Select((v, i) => v / d[i] * (0.5 + random.NextDouble()) + 0.1 * random.NextDouble())]; // sᵀy > 0
        if (p > 1)
            s[p / 2] = 0;
        double sy = s.Select((v, i) => v * y[i]).Sum();
        Assert.True(sy > 0);
        // Reference: the full matrices.
        double c = y.Select((v, i) => v * d[i] * v).Sum() / sy;
        var b = new double[p, p];
        for (int i = 0; i < p; i++)
            b[i, i] = c / d[i];
        double[] bs = [.. Enumerable.Range(0, p).Select(i => Enumerable.Range(0, p).Sum(j => b[i, j] * s[j]))];
        double sbs = s.Select((v, i) => v * bs[i]).Sum();
        double[] want = [.. Enumerable.Range(0, p).Select(i => 1 / (b[i, i] + y[i] * y[i] / sy - bs[i] * bs[i] / sbs))];

        double[] got = (double[])d.Clone();
        var sums = new double[2];
        HistoryKernels.DiagonalSums(got, s, y, sums);
        Check.Close(c, sums[0] / sy, 0, 1e-14, "yᵀDy / sᵀy");
        HistoryKernels.DiagonalUpdate(got, s, y, sums[0] / sy, sy, sums[1]);
        Check.Close(want, got, 0, 1e-12, "D⁺");
    }

    /// <summary>
    /// Least squares with badly scaled columns, J = 1 + ½‖A·θ − b‖²/n (A's columns scaled over four decades, as raw
    /// features of different units are; seeded, n = 300 rows, P = 101): L-BFGS reaches its optimum (within 1e-9) and the
    /// diagonal H₀ needs fewer than half the iterations of the textbook scalar one, which is why it is there. Measured when
    /// written: the diagonal 331 iterations to the optimum; the scalar 18,799, stopping 1.3e-4 above it.
    /// </summary>
    [Fact]
    public void TheDiagonalLearnsBadlyScaledColumns()
    {
        const int n = 300, p = 101;
        var random = new Random(11);
        double[] scale = [.. Enumerable.Range(0, p).Select(j => Math.Pow(10, -4.0 * j / (p - 1)))];
        var a = new double[n, p];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < p; j++)
                a[i, j] = (random.NextDouble() * 2 - 1) * scale[j];
        double[] target = Check.Normal(random, n);
        var squares = new LeastSquares(a, target);
        int Iterations(bool diagonal, out double j)
        {
            using var optimizer = new LbfgsOptimizer(squares, new double[p], diagonal);
            (double[] theta, EpochOutcome last, int iterations) = CrossValidation.Fit(optimizer, 20_000, new TrainOptions());
            j = squares.Evaluate(theta, new double[p]).J;
            return iterations;
        }
        int withDiagonal = Iterations(diagonal: true, out double jDiagonal);
        int scalar = Iterations(diagonal: false, out double jScalar);
        double optimum = Math.Min(jDiagonal, jScalar);
        Assert.True(jDiagonal - optimum <= 1e-9 * optimum, $"diagonal H₀ ended {jDiagonal - optimum:E2} above ({withDiagonal} iterations)");
        Assert.True(2 * withDiagonal < scalar, $"diagonal H₀ {withDiagonal} iterations, scalar {scalar}");
    }

    /// <summary>J = 1 + ½‖A·θ − b‖²/n and its exact gradient Aᵀ(Aθ − b)/n.</summary>
    private sealed class LeastSquares(double[,] a, double[] b) : IObjective
    {
        public (double J, double Loss, double Accuracy) Evaluate(double[] theta, double[] gradient)
        {
            int n = b.Length, p = theta.Length;
            Array.Clear(gradient);
            double j = 1;
            for (int i = 0; i < n; i++)
            {
                double r = -b[i];
                for (int k = 0; k < p; k++)
                    r += a[i, k] * theta[k];
                j += 0.5 * r * r / n;
                for (int k = 0; k < p; k++)
                    gradient[k] += a[i, k] * r / n;
            }
            return (j, j, 0);
        }
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
