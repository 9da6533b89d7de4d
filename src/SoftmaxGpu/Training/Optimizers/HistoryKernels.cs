namespace SoftmaxGpu.Training;

/// <summary>
/// The elementwise steps of the two-loop recursion (<see cref="CurvatureHistory"/>), each fused with the dot product
/// that follows it, on one chunk of the vectors: plain float64 loops summing in index order.
/// </summary>
internal static class HistoryKernels
{
    /// <summary>q = g; returns Σ s·q.</summary>
    public static double CopyDot(Span<double> q, ReadOnlySpan<double> g, ReadOnlySpan<double> s)
    {
        double sum = 0;
        for (int i = 0; i < q.Length; i++)
        {
            q[i] = g[i];
            sum += s[i] * q[i];
        }
        return sum;
    }

    /// <summary>q += a·x; returns Σ d·q (0 where d is empty).</summary>
    public static double AxpyDot(Span<double> q, double a, ReadOnlySpan<double> x, ReadOnlySpan<double> d)
    {
        double sum = 0;
        for (int i = 0; i < q.Length; i++)
        {
            q[i] += a * x[i];
            if (!d.IsEmpty)
                sum += d[i] * q[i];
        }
        return sum;
    }

    /// <summary>q *= γ; returns Σ d·q.</summary>
    public static double ScaleDot(Span<double> q, double gamma, ReadOnlySpan<double> d)
    {
        double sum = 0;
        for (int i = 0; i < q.Length; i++)
        {
            q[i] *= gamma;
            sum += d[i] * q[i];
        }
        return sum;
    }

    /// <summary>q = −(q + c·x) (x empty: −q); returns Σ g·q.</summary>
    public static double AxpyNegateDot(Span<double> q, double c, ReadOnlySpan<double> x, ReadOnlySpan<double> g)
    {
        double result = 0;
        for (int i = 0; i < q.Length; i++)
        {
            if (!x.IsEmpty)
                q[i] += c * x[i];
            q[i] = -q[i];
            result += g[i] * q[i];
        }
        return result;
    }

    /// <summary>trial = position + t·d.</summary>
    public static void Step(Span<double> trial, ReadOnlySpan<double> position, double t, ReadOnlySpan<double> d)
    {
        for (int i = 0; i < d.Length; i++)
            trial[i] = position[i] + t * d[i];
    }

    /// <summary>s = a − b and y = c − e; returns Σ s·y.</summary>
    public static double Differences(Span<double> s, ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y,
        ReadOnlySpan<double> c, ReadOnlySpan<double> e)
    {
        double sum = 0;
        for (int i = 0; i < s.Length; i++)
        {
            s[i] = a[i] - b[i];
            y[i] = c[i] - e[i];
            sum += s[i] * y[i];
        }
        return sum;
    }

    /// <summary>Σ g·(a − b).</summary>
    public static double DotOfDifference(ReadOnlySpan<double> g, ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double sum = 0;
        for (int i = 0; i < g.Length; i++)
            sum += g[i] * (a[i] - b[i]);
        return sum;
    }

    /// <summary>Σ a·b.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
            sum += a[i] * b[i];
        return sum;
    }
}
