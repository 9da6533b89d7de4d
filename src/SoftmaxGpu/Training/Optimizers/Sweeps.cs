namespace SoftmaxGpu.Training;

/// <summary>
/// Passes over vectors of θ's length P in chunks of <see cref="Chunk"/> entries spread over the cores. A sum runs in
/// index order within a chunk and the chunks' sums are added in chunk order: the result does not depend on the core
/// count, and for P within one chunk it is the plain sequential sum.
/// </summary>
internal static class Sweeps
{
    /// <summary>Entries of one chunk.</summary>
    public const int Chunk = 1 << 20;

    /// <summary>A chunk's work on entries [first, last), returning its partial sum.</summary>
    public delegate double Part(int first, int last);

    /// <summary>Σ over chunks of <paramref name="part"/>, in chunk order (the chunks run in parallel).</summary>
    public static double Sum(int length, Part part, int chunk = Chunk)
    {
        int chunks = Math.Max(1, (length + chunk - 1) / chunk);
        if (chunks == 1)
            return part(0, length);
        var sums = new double[chunks];
        Parallel.For(0, chunks, c => sums[c] = part(c * chunk, (int)Math.Min(length, (long)(c + 1) * chunk)));
        double total = 0;
        foreach (double sum in sums)
            total += sum;
        return total;
    }

    /// <summary>A chunk's work on entries [first, last), adding its partial sums into <c>sums</c> (zeros on entry).</summary>
    public delegate void Parts(int first, int last, Span<double> sums);

    /// <summary>Σ over chunks of <paramref name="count"/> partial sums at once, each added in chunk order (the chunks run in parallel).</summary>
    public static double[] Sums(int length, int count, Parts part, int chunk = Chunk)
    {
        int chunks = Math.Max(1, (length + chunk - 1) / chunk);
        var sums = new double[chunks, Math.Max(1, count)];
        Parallel.For(0, chunks, c =>
            part(c * chunk, (int)Math.Min(length, (long)(c + 1) * chunk), System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref sums[c, 0], count)));
        var total = new double[count];
        for (int c = 0; c < chunks; c++)
            for (int i = 0; i < count; i++)
                total[i] += sums[c, i];
        return total;
    }

    /// <summary>max over chunks of <paramref name="part"/>.</summary>
    public static double Max(int length, Part part)
    {
        int chunks = Math.Max(1, (length + Chunk - 1) / Chunk);
        var maxima = new double[chunks];
        Parallel.For(0, chunks, c => maxima[c] = part(c * Chunk, (int)Math.Min(length, (long)(c + 1) * Chunk)));
        return maxima.Max();
    }

    /// <summary>aᵀb in float64.</summary>
    public static double Dot(double[] a, double[] b) => Sum(a.Length, (first, last) =>
    {
        double sum = 0;
        for (int i = first; i < last; i++)
            sum += a[i] * b[i];
        return sum;
    });

    /// <summary>max |v_i|.</summary>
    public static double MaxAbs(double[] v) => Max(v.Length, (first, last) =>
    {
        double max = 0;
        for (int i = first; i < last; i++)
            max = Math.Max(max, Math.Abs(v[i]));
        return max;
    });
}
