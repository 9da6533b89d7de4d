using SoftmaxGpu.Training;
using Xunit;

namespace SoftmaxGpu.Tests;

/// <summary>
/// The Gram-matrix L-BFGS memory (<see cref="GramCurvatureHistory"/>, large θ) against the float64 two-loop recursion
/// over vectors (<see cref="CurvatureHistory"/>, the reference): on the same pairs, the same direction.
/// </summary>
public class GramCurvatureHistoryTests
{
    /// <summary>
    /// Steps along the Gram history's directions on a seeded convex quadratic J = ½Σ a_i θ_i² − cᵀθ (a from 1 to 1000) and
    /// compares each direction and slope with the reference's on the same pairs: P spans several of the history's
    /// chunks and is not a multiple of its block or the vector width; the pairs outnumber the capacity (evictions), and
    /// one step repeats the gradient (a flat pair both refuse, after which the gradient's dots must be refreshed).
    /// </summary>
    [Theory]
    [InlineData(300_007, 5)]
    [InlineData(1_003, 3)]
    public void DirectionsMatchTheFloat64TwoLoopRecursion(int p, int capacity)
    {
        var random = new Random(20261206);
        double[] a = [.. Enumerable.Range(0, p).Select(_ => Math.Exp(random.NextDouble() * Math.Log(1000)))];
        double[] c = Check.Normal(random, p);
        var gram = new GramCurvatureHistory(p, capacity);
        var reference = new CurvatureHistory(p);
        double[] theta = new double[p], g = Gradient(a, c, theta);
        double[] zeros = new double[p], got = new double[p], want = new double[p];
        for (int iteration = 0; iteration < 3 * capacity; iteration++)
        {
            double slope = gram.Direction(g), referenceSlope = reference.Direction(g);
            gram.Step(got, zeros, 1);
            reference.Step(want, zeros, 1);
            double scale = want.Max(Math.Abs);
            Check.Close(want, got, 1e-5 * scale, 1e-4, $"d at iteration {iteration} ({gram.Count} pairs)");
            Check.Close(referenceSlope, slope, 0, 1e-4, $"gᵀd at iteration {iteration}");
            Assert.Equal(reference.Count, gram.Count);

            double step = iteration == 0 ? 1e-3 : 1;
            double[] next = new double[p];
            gram.Step(next, theta, step);
            double[] gNext = iteration == capacity ? (double[])g.Clone() : Gradient(a, c, next); // a flat pair once
            gram.Remember(next, theta, step, gNext, g, capacity);
            reference.Remember(next, theta, step, gNext, g, capacity);
            (theta, g) = (iteration == capacity ? theta : next, gNext);
        }
    }

    private static double[] Gradient(double[] a, double[] c, double[] theta) => [.. theta.Select((t, i) => a[i] * t - c[i])];
}
