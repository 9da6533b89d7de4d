using System.Text;

namespace SoftmaxGpu.Tests;

/// <summary>Comparisons against the float64 reference: |got − ref| ≤ atol + rtol·|ref|, with the first misses shown.</summary>
public static class Check
{
    public static void Close(IReadOnlyList<double> reference, IReadOnlyList<float> got, double atol, double rtol, string what) =>
        Close(reference, got.Select(v => (double)v).ToArray(), atol, rtol, what);

    public static void Close(IReadOnlyList<double> reference, IReadOnlyList<double> got, double atol, double rtol, string what)
    {
        Assert.Equal(reference.Count, got.Count);
        var misses = new StringBuilder();
        int count = 0;
        for (int i = 0; i < reference.Count; i++)
        {
            double r = reference[i];
            double g = got[i];
            if (double.IsFinite(g) && Math.Abs(g - r) <= atol + rtol * Math.Abs(r))
                continue;
            if (count++ < 5)
                misses.AppendLine($"  [{i}] got {g:G9}, reference {r:G9}, |diff| {Math.Abs(g - r):G3} > {atol + rtol * Math.Abs(r):G3}");
        }
        Assert.True(count == 0, $"{what}: {count} of {reference.Count} values outside atol {atol} + rtol {rtol}·|ref|:\n{misses}");
    }

    /// <summary>
    /// A float sum against its float64 reference: |got − ref| ≤ atol + rtol·magnitude, magnitude = Σ|terms| (the scale of
    /// the sum's rounding error, which cancellation can leave far above |ref|). Where ref is beyond float's range, got
    /// must be float's infinity of the same sign: the overflow the device's float result shows.
    /// </summary>
    public static void CloseToSums(IReadOnlyList<double> reference, IReadOnlyList<double> magnitude, IReadOnlyList<float> got,
        double atol, double rtol, string what)
    {
        Assert.Equal(reference.Count, got.Count);
        Assert.Equal(reference.Count, magnitude.Count);
        var misses = new StringBuilder();
        int count = 0;
        for (int i = 0; i < reference.Count; i++)
        {
            double r = reference[i], g = got[i], bound = atol + rtol * magnitude[i];
            bool ok = float.IsInfinity((float)r) ? g == (float)r : double.IsFinite(g) && Math.Abs(g - r) <= bound;
            if (!ok && count++ < 5)
                misses.AppendLine($"  [{i}] got {g:G9}, reference {r:G9}, |diff| {Math.Abs(g - r):G3} > {bound:G3}");
        }
        Assert.True(count == 0, $"{what}: {count} of {reference.Count} values outside atol {atol} + rtol {rtol}·Σ|terms|:\n{misses}");
    }

    public static void Close(double reference, double got, double atol, double rtol, string what) =>
        Close(new[] { reference }, new[] { got }, atol, rtol, what);

    /// <summary>Seeded normal values times <paramref name="scale"/>.</summary>
    public static double[] Normal(Random random, int count, double scale = 1)
    {
        var values = new double[count];
        for (int i = 0; i < count; i++)
            values[i] = scale * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return values;
    }

    public static float[] ToFloat(double[] values) => values.Select(v => (float)v).ToArray();

    /// <summary>The float32 values the device sees, back in float64 for the reference.</summary>
    public static double[] AsDevice(double[] values) => values.Select(v => (double)(float)v).ToArray();

    public static string IrisPath => Path.Combine(AppContext.BaseDirectory, "data", "iris.csv");
}
