using System.Numerics;

namespace SoftmaxGpu.Training;

/// <summary>
/// The L-BFGS update's passes over float64 vectors of θ's length P — each an elementwise step fused with the dot
/// product the recursion needs next — in chunks of <see cref="Chunk"/> entries spread over the cores. A sum runs in
/// index order within a chunk and the chunks' sums are added in chunk order, so the result does not depend on the
/// core count. For P within one chunk every loop is the plain sequential one (the bits every dense model was
/// pinned with); beyond it, sums run in SIMD lanes (<see cref="Vector{T}"/>: the same bits on a given machine). With
/// 10⁷ parameters and more, the update moves gigabytes an iteration, as much as the pass over the data.
/// </summary>
internal static class Sweeps
{
    /// <summary>Entries of one chunk (8 MiB of float64).</summary>
    public const int Chunk = 1 << 20;

    /// <summary>A chunk's work on entries [first, last) (<paramref name="simd"/>: in vector lanes), returning its partial sum.</summary>
    public delegate double Part(int first, int last, bool simd);

    /// <summary>Σ over chunks of <paramref name="part"/>, in chunk order.</summary>
    public static double Sum(int length, Part part)
    {
        int chunks = Math.Max(1, (length + Chunk - 1) / Chunk);
        if (chunks == 1)
            return part(0, length, simd: false);
        var sums = new double[chunks];
        Parallel.For(0, chunks, c => sums[c] = part(c * Chunk, (int)Math.Min(length, (long)(c + 1) * Chunk), simd: true));
        double total = 0;
        foreach (double sum in sums)
            total += sum;
        return total;
    }

    /// <summary>aᵀb.</summary>
    public static double Dot(double[] a, double[] b) => Sum(a.Length, (first, last, simd) => Dot(a, b, first, last, simd));

    /// <summary>max |v_i|.</summary>
    public static double MaxAbs(double[] v)
    {
        int chunks = Math.Max(1, (v.Length + Chunk - 1) / Chunk);
        var maxima = new double[chunks];
        Parallel.For(0, chunks, c =>
        {
            double max = 0;
            for (int i = c * Chunk, last = (int)Math.Min(v.Length, (long)(c + 1) * Chunk); i < last; i++)
                max = Math.Max(max, Math.Abs(v[i]));
            maxima[c] = max;
        });
        return maxima.Max();
    }

    /// <summary>to = at + t·along.</summary>
    public static void Step(double[] to, double[] at, double t, double[] along) => Sum(to.Length, (first, last, simd) =>
    {
        int i = first;
        if (simd)
            for (; i + Vector<double>.Count <= last; i += Vector<double>.Count)
                (new Vector<double>(at, i) + t * new Vector<double>(along, i)).CopyTo(to, i);
        for (; i < last; i++)
            to[i] = at[i] + t * along[i];
        return 0;
    });

    /// <summary>s = a − b, y = c − d; returns sᵀy.</summary>
    public static double Differences(double[] s, double[] a, double[] b, double[] y, double[] c, double[] d) =>
        Sum(s.Length, (first, last, simd) =>
        {
            for (int i = first; i < last; i++)
            {
                s[i] = a[i] - b[i];
                y[i] = c[i] - d[i];
            }
            return Dot(s, y, first, last, simd);
        });

    /// <summary>q = g; returns q.</summary>
    public static double[] Copy(double[] q, double[] g)
    {
        Sum(q.Length, (first, last, _) =>
        {
            Array.Copy(g, first, q, first, last - first);
            return 0;
        });
        return q;
    }

    /// <summary>q = g; returns sᵀq.</summary>
    public static double CopyDot(double[] q, double[] g, double[] s) => Sum(q.Length, (first, last, simd) =>
    {
        Array.Copy(g, first, q, first, last - first);
        return Dot(s, q, first, last, simd);
    });

    /// <summary>q += a·x; returns dᵀq (0 without d).</summary>
    public static double AxpyDot(double[] q, double a, double[] x, double[]? d) => Sum(q.Length, (first, last, simd) =>
    {
        int i = first;
        if (simd)
            for (; i + Vector<double>.Count <= last; i += Vector<double>.Count)
                (new Vector<double>(q, i) + a * new Vector<double>(x, i)).CopyTo(q, i);
        for (; i < last; i++)
            q[i] += a * x[i];
        return d is null ? 0 : Dot(d, q, first, last, simd);
    });

    /// <summary>q *= γ; returns dᵀq.</summary>
    public static double ScaleDot(double[] q, double gamma, double[] d) => Sum(q.Length, (first, last, simd) =>
    {
        for (int i = first; i < last; i++)
            q[i] *= gamma;
        return Dot(d, q, first, last, simd);
    });

    /// <summary>q = −(q + c·x) (without x: −q); returns gᵀq.</summary>
    public static double AxpyNegateDot(double[] q, double c, double[]? x, double[] g) => Sum(q.Length, (first, last, simd) =>
    {
        for (int i = first; i < last; i++)
        {
            if (x is not null)
                q[i] += c * x[i];
            q[i] = -q[i];
        }
        return Dot(g, q, first, last, simd);
    });

    /// <summary>Σ a_i·b_i over [first, last): in index order, or in vector lanes then across them.</summary>
    private static double Dot(double[] a, double[] b, int first, int last, bool simd)
    {
        int i = first;
        double sum = 0;
        if (simd)
        {
            var lanes = Vector<double>.Zero;
            for (; i + Vector<double>.Count <= last; i += Vector<double>.Count)
                lanes += new Vector<double>(a, i) * new Vector<double>(b, i);
            sum = Vector.Sum(lanes);
        }
        for (; i < last; i++)
            sum += a[i] * b[i];
        return sum;
    }
}
