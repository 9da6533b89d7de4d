using SoftmaxGpu.Training;
using Xunit;

namespace SoftmaxGpu.Tests;

/// <summary>
/// The Gram-matrix L-BFGS memory (<see cref="GramCurvatureHistory"/>, large θ, pairs in bfloat16) against the float64
/// two-loop recursion over vectors (<see cref="CurvatureHistory"/>, the reference) given the same rounded pairs: the
/// same direction.
/// </summary>
public class GramCurvatureHistoryTests
{
    /// <summary>
    /// Steps along the Gram history's directions on a seeded convex quadratic J = ½Σ a_i θ_i² − cᵀθ (a from 1 to 1000) and
    /// compares each direction and slope with the reference's, which is given the pairs the Gram history keeps (s = step·d
    /// with d as the history stored it, in bfloat16, and y = gNext − gNow rounded to float, then to bfloat16, here by scalar
    /// code): P spans several of the history's chunks and is not a multiple of its block or the vector width; the pairs
    /// outnumber the capacity (evictions), and once the gradient moves against the step (a pair of negative curvature
    /// both refuse, after which the new gradient's dots, and with D its D-weighted ones, must be measured anew). The direction is stored rounded to bfloat16: each entry within that rounding of
    /// the reference's, and the rounding unbiased (its mean along d far below one entry's); the slope, from the Gram
    /// matrix, within 1e-4. Later steps of a line search read the stored d; ‖g‖∞ comes from the pair pass. With
    /// <paramref name="diagonal"/>, H₀ is the diagonal D that each pair kept updates (the trainer's), in both: the Gram
    /// history keeps D in float and its D-weighted dots in a pass of their own, the reference in float64.
    /// </summary>
    [Theory]
    [InlineData(300_007, 5, true)]
    [InlineData(300_007, 5, false)]
    [InlineData(1_003, 3, true)]
    [InlineData(1_003, 3, false)]
    public void DirectionsMatchTheFloat64TwoLoopRecursion(int p, int capacity, bool diagonal)
    {
        var random = new Random(20261206);
        double[] a = [.. Enumerable.Range(0, p).Select(_ => Math.Exp(random.NextDouble() * Math.Log(1000)))];
        double[] c = Check.Normal(random, p);
        var gram = new GramCurvatureHistory(p, capacity, diagonal);
        var reference = new CurvatureHistory(p, diagonal);
        double[] theta = new double[p], g = Gradient(a, c, theta);
        double[] zeros = new double[p], got = new double[p], want = new double[p];
        for (int iteration = 0; iteration < 3 * capacity; iteration++)
        {
            if (iteration == capacity + 2)
                g = (double[])g.Clone(); // a gradient array the history has not measured, with pairs kept: its dots taken anew
            Assert.Equal(g.Max(v => Math.Abs((float)v)), gram.MaxAbs(g));
            double slope = gram.Direction(g), referenceSlope = reference.Direction(g);
            gram.Step(got, zeros, 1);
            reference.Step(want, zeros, 1);
            Assert.All(got, v => Assert.Equal(BFloat16((float)v), v));
            double scale = want.Max(Math.Abs);
            Check.Close(want, got, 1e-5 * scale, 1.0 / 256, $"d at iteration {iteration} ({gram.Count} pairs)");
            double bias = got.Select((v, i) => (v - want[i]) * want[i]).Sum() / want.Select(v => v * v).Sum();
            Assert.True(Math.Abs(bias) < 20.0 / 512 / Math.Sqrt(p), $"d's rounding is biased by {bias:E2} at iteration {iteration}");
            Check.Close(referenceSlope, slope, 0, 1e-4, $"gᵀd at iteration {iteration}");
            Assert.Equal(reference.Count, gram.Count);

            double step = iteration == 0 ? 1e-3 : iteration % 2 == 0 ? 0.5 : 1; // steps other than 1: s = t·d
            double[] next = new double[p];
            gram.Step(next, theta, step);
            Check.Close([.. theta.Select((t, i) => t + step * got[i])], next, 0, 1e-15, "θ + t·d from the stored d");
            double[] gNext = iteration == capacity // once a pair of negative curvature: y = −s/10
                ? [.. g.Select((v, i) => v - 0.1 * (next[i] - theta[i]))]
                : Gradient(a, c, next);
            gram.Remember(next, theta, step, gNext, g, capacity);
            double[] s = [.. got.Select(d => step * d)];
            double[] y = [.. gNext.Select((v, i) => BFloat16((float)(v - g[i])))];
            reference.Remember(s, zeros, step, y, zeros, capacity);
            (theta, g) = (iteration == capacity ? theta : next, gNext);
        }
    }

    /// <summary>Rounding float32 to bfloat16, to nearest with ties to even, written apart from the engine's lanes.</summary>
    private static double BFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint lsb = (bits >> 16) & 1;
        return BitConverter.UInt32BitsToSingle((bits + 0x7FFFu + lsb) & 0xFFFF0000u);
    }

    /// <summary>The lanes' rounding and widening on awkward lengths: ties to even, signs, tiny and huge values.</summary>
    [Fact]
    public void BFloat16LanesRoundToNearestEven()
    {
        var random = new Random(7);
        foreach (int length in new[] { 1, 15, 16, 17, 33, 1000 })
        {
            float[] x = [.. Enumerable.Range(0, length).Select(i => (i % 5) switch
            {
                0 => BitConverter.UInt32BitsToSingle(0x3F808000u), // 1 + 2⁻⁸: a tie, rounds down to even
                1 => BitConverter.UInt32BitsToSingle(0x3F818000u), // a tie that rounds up to even
                2 => (float)(random.NextDouble() - 0.5) * 1e30f,
                3 => -(float)random.NextDouble() * 1e-30f,
                _ => (float)Check.Normal(random, 1)[0],
            })];
            double[] want = [.. x.Select(BFloat16)];
            var bits = new ushort[length];
            float[] rounded = [.. x];
            GramKernels.ToBFloat16(rounded, bits);
            Assert.Equal(want, rounded.Select(v => (double)v));
            Assert.Equal(want, bits.Select(b => (double)BitConverter.UInt32BitsToSingle((uint)b << 16)));

            float[] probe = [.. Check.Normal(random, length).Select(v => (float)v)];
            double dot = want.Select((w, i) => w * probe[i]).Sum();
            Check.Close(dot, GramKernels.Dot(probe, bits), 1e-5 * want.Select((w, i) => Math.Abs(w * probe[i])).Sum(), 0, $"bfloat16 dot, length {length}");
        }
    }

    /// <summary>
    /// The kernels of the diagonal H₀ and of writing d, against float64 on seeded awkward lengths (not multiples of a
    /// vector, nor of four): the four-sum dot, d += Σ a_t·x_t over bfloat16 terms read at an offset (with the same bits as
    /// the terms added one by one), and D's update and its two sums (scales over eight decades, one entry of s zero:
    /// its scale only rescaled by 1/c) as <see cref="HistoryKernels"/>' float64 ones.
    /// </summary>
    [Fact]
    public void DiagonalAndDirectionKernelsMatchFloat64()
    {
        var random = new Random(20261207);
        foreach (int length in new[] { 1, 7, 15, 33, 67, 1000, 4097 })
        {
            float[] Floats(double[] v) => [.. v.Select(x => (float)x)];
            float[] a = Floats(Check.Normal(random, length)), b = Floats(Check.Normal(random, length));
            double dot = a.Select((v, i) => (double)v * b[i]).Sum(), size = a.Select((v, i) => Math.Abs((double)v * b[i])).Sum();
            Check.Close(dot, GramKernels.Dot4(a, b), 1e-6 * size, 0, $"Dot4, length {length}");

            const int offset = 5;
            ushort[][] terms = [.. Enumerable.Range(0, 3).Select(_ =>
            {
                var bits = new ushort[offset + length];
                float[] values = Floats(Check.Normal(random, offset + length));
                GramKernels.ToBFloat16(values, bits);
                return bits;
            })];
            float[] scales = Floats(Check.Normal(random, 3)), d = Floats(Check.Normal(random, length));
            float[] oneByOne = [.. d], together = [.. d];
            foreach ((ushort[] term, float scale) in terms.Zip(scales))
                GramKernels.Axpy(oneByOne, [scale], [term], offset);
            GramKernels.Axpy(together, scales, terms, offset);
            Assert.Equal(oneByOne, together);
            double[] want = [.. d.Select((v, i) => v + terms.Zip(scales).Sum(t => t.Second * (double)BitConverter.UInt32BitsToSingle((uint)t.First[offset + i] << 16)))];
            Check.Close(want, [.. together.Select(v => (double)v)], 1e-5, 1e-5, $"Σ a·x, length {length}");

            double[] diagonal = [.. Enumerable.Range(0, length).Select(_ => Math.Pow(10, random.NextDouble() * 8 - 4))];
            double[] s = [.. Check.Normal(random, length).Select(v => (double)(float)v)];
            double[] y = [.. s.Select((v, i) => (double)(float)(v / diagonal[i] * (0.5 + random.NextDouble()) + 0.1 * random.NextDouble()))];
            if (length > 1)
                s[length / 2] = 0;
            double sy = s.Select((v, i) => v * y[i]).Sum();
            float[] scalesF = Floats(diagonal);
            diagonal = [.. scalesF.Select(v => (double)v)];
            var sums = new double[2];
            HistoryKernels.DiagonalSums(diagonal, s, y, sums);
            (float yDy, float sOverD) = GramKernels.DiagonalSums(Floats(s), Floats(y), scalesF);
            Check.Close(sums[0], yDy, 0, 1e-5, $"yᵀDy, length {length}");
            Check.Close(sums[1], sOverD, 0, 1e-5, $"Σ s²/D, length {length}");
            double c = sums[0] / sy;
            HistoryKernels.DiagonalUpdate(diagonal, s, y, c, sy, sums[1]);
            GramKernels.DiagonalUpdate(scalesF, Floats(s), Floats(y), (float)c, (float)sy, (float)sums[1]);
            Check.Close(diagonal, [.. scalesF.Select(v => (double)v)], 0, 1e-4, $"D⁺, length {length}");
        }
    }

    /// <summary>
    /// An entry whose curvature overflows (a y_i beyond float's or double's square root) keeps a positive D_i — rescaled
    /// by 1/c — in both the float and the float64 update; before, 1/∞ = 0 made it 0, and its weight would never move again.
    /// </summary>
    [Fact]
    public void AnOverflowingCurvatureLeavesDPositive()
    {
        float[] scales = [2, 2, 2, 2, 2, 2, 2, 2, 2, 2];
        float[] s = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], y = [1, 1, 1, 1e20f, 1, 1, 1, 1, 1, 1e20f]; // one in the lanes, one in the tail
        GramKernels.DiagonalUpdate(scales, s, y, 2, 1, 5);
        Assert.Equal(1f, scales[3]);
        Assert.Equal(1f, scales[9]);
        Assert.All(scales, v => Assert.True(v > 0 && float.IsFinite(v), $"D_i = {v}"));
        double[] wide = [2, 2, 2];
        HistoryKernels.DiagonalUpdate(wide, [1.0, 1, 1], [1.0, 1e200, 1], 2, 1, 1.5);
        Assert.Equal(1.0, wide[1]);
        Assert.All(wide, v => Assert.True(v > 0 && double.IsFinite(v), $"D_i = {v}"));
    }

    private static double[] Gradient(double[] a, double[] c, double[] theta) => [.. theta.Select((t, i) => a[i] * t - c[i])];
}
