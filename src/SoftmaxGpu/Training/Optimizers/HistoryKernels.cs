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

    /// <summary>q *= D elementwise; returns Σ d·q.</summary>
    public static double ScaleDot(Span<double> q, ReadOnlySpan<double> scale, ReadOnlySpan<double> d)
    {
        double sum = 0;
        for (int i = 0; i < q.Length; i++)
        {
            q[i] *= scale[i];
            sum += d[i] * q[i];
        }
        return sum;
    }

    /// <summary>sums[0] += Σ y·D·y, sums[1] += Σ s²/D: the two sums of the diagonal update.</summary>
    public static void DiagonalSums(ReadOnlySpan<double> scale, ReadOnlySpan<double> s, ReadOnlySpan<double> y, Span<double> sums)
    {
        double yDy = 0, sOverD = 0;
        for (int i = 0; i < scale.Length; i++)
        {
            yDy += y[i] * scale[i] * y[i];
            sOverD += s[i] * s[i] / scale[i];
        }
        sums[0] += yDy;
        sums[1] += sOverD;
    }

    /// <summary>
    /// D_i = 1 / (c/D_i + y_i²/sᵀy − c·(s_i/D_i)² / Σ s²/D): the diagonal of the BFGS update of c·D⁻¹ (≥ 0 exactly); an entry
    /// that rounding leaves without a curvature whose inverse is positive and finite (negative, zero, overflowed, where D_i
    /// would become 0 and its weight never move again) is only rescaled (D_i/c).
    /// </summary>
    public static void DiagonalUpdate(Span<double> scale, ReadOnlySpan<double> s, ReadOnlySpan<double> y, double c, double sy, double sOverD)
    {
        for (int i = 0; i < scale.Length; i++)
        {
            double sd = s[i] / scale[i];
            double curvature = c / scale[i] + y[i] * y[i] / sy - c * sd * sd / sOverD;
            double inverse = 1 / curvature;
            scale[i] = inverse > 0 && double.IsFinite(inverse) ? inverse : scale[i] / c;
        }
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
