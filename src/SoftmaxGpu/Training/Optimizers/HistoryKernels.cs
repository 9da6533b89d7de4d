using System.Numerics;
using System.Runtime.InteropServices;

namespace SoftmaxGpu.Training;

/// <summary>
/// The elementwise steps of the L-BFGS recursion, each fused with the dot product that follows it, on one chunk of
/// the vectors (<see cref="CurvatureHistory{T}"/> runs them over the chunks). For float64 (a small θ) they are the
/// plain loops, summing in index order; for float32 (a large θ) they run in SIMD lanes and sum in float64 lanes
/// (float products are exact in float64), so the bytes, not the arithmetic, set their speed.
/// </summary>
internal static class HistoryKernels
{
    /// <summary>q = g (rounded to T); returns Σ s·q.</summary>
    public static double CopyDot<T>(Span<T> q, ReadOnlySpan<double> g, ReadOnlySpan<T> s) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            Span<float> q32 = Cast<T, float>(q);
            int i = Narrow(g, q32);
            return Dot32(Cast<T, float>(s), q32, i) + Tail(Cast<T, float>(s), q32, i);
        }
        double sum = 0;
        for (int i = 0; i < q.Length; i++)
        {
            q[i] = T.CreateTruncating(g[i]);
            sum += double.CreateTruncating(s[i]) * double.CreateTruncating(q[i]);
        }
        return sum;
    }

    /// <summary>q += a·x; returns Σ d·q (0 where d is empty).</summary>
    public static double AxpyDot<T>(Span<T> q, double a, ReadOnlySpan<T> x, ReadOnlySpan<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            Span<float> q32 = Cast<T, float>(q);
            ReadOnlySpan<float> x32 = Cast<T, float>(x);
            float factor = (float)a;
            var lanes = new Vector<float>(factor);
            int i = 0;
            for (; i + Vector<float>.Count <= q32.Length; i += Vector<float>.Count)
                (new Vector<float>(q32[i..]) + lanes * new Vector<float>(x32[i..])).CopyTo(q32[i..]);
            for (int j = i; j < q32.Length; j++)
                q32[j] += factor * x32[j];
            return d.IsEmpty ? 0 : Dot32(Cast<T, float>(d), q32, q32.Length);
        }
        T scale = T.CreateTruncating(a);
        double sum = 0;
        for (int i = 0; i < q.Length; i++)
        {
            q[i] += scale * x[i];
            if (!d.IsEmpty)
                sum += double.CreateTruncating(d[i]) * double.CreateTruncating(q[i]);
        }
        return sum;
    }

    /// <summary>q *= γ; returns Σ d·q.</summary>
    public static double ScaleDot<T>(Span<T> q, double gamma, ReadOnlySpan<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            Span<float> q32 = Cast<T, float>(q);
            float factor = (float)gamma;
            int i = 0;
            for (; i + Vector<float>.Count <= q32.Length; i += Vector<float>.Count)
                (new Vector<float>(q32[i..]) * factor).CopyTo(q32[i..]);
            for (int j = i; j < q32.Length; j++)
                q32[j] *= factor;
            return Dot32(Cast<T, float>(d), q32, q32.Length);
        }
        T scale = T.CreateTruncating(gamma);
        double sum = 0;
        for (int i = 0; i < q.Length; i++)
        {
            q[i] *= scale;
            sum += double.CreateTruncating(d[i]) * double.CreateTruncating(q[i]);
        }
        return sum;
    }

    /// <summary>q = −(q + c·x) (x empty: −q); returns Σ g·q.</summary>
    public static double AxpyNegateDot<T>(Span<T> q, double c, ReadOnlySpan<T> x, ReadOnlySpan<double> g) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            if (!x.IsEmpty)
                AxpyDot(q, c, x, default);
            Span<float> q32 = Cast<T, float>(q);
            var sum = Vector<double>.Zero;
            int i = 0;
            for (; i + Vector<float>.Count <= q32.Length; i += Vector<float>.Count)
            {
                var negated = -new Vector<float>(q32[i..]);
                negated.CopyTo(q32[i..]);
                Vector.Widen(negated, out Vector<double> low, out Vector<double> high);
                sum += low * new Vector<double>(g[i..]) + high * new Vector<double>(g[(i + Vector<double>.Count)..]);
            }
            double total = Vector.Sum(sum);
            for (; i < q32.Length; i++)
            {
                q32[i] = -q32[i];
                total += g[i] * q32[i];
            }
            return total;
        }
        T scale = T.CreateTruncating(c);
        double result = 0;
        for (int i = 0; i < q.Length; i++)
        {
            if (!x.IsEmpty)
                q[i] += scale * x[i];
            q[i] = -q[i];
            result += g[i] * double.CreateTruncating(q[i]);
        }
        return result;
    }

    /// <summary>trial = position + t·d.</summary>
    public static void Step<T>(Span<double> trial, ReadOnlySpan<double> position, double t, ReadOnlySpan<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            ReadOnlySpan<float> d32 = Cast<T, float>(d);
            int i = 0;
            for (; i + Vector<float>.Count <= d32.Length; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(d32[i..]), out Vector<double> low, out Vector<double> high);
                (new Vector<double>(position[i..]) + t * low).CopyTo(trial[i..]);
                (new Vector<double>(position[(i + Vector<double>.Count)..]) + t * high).CopyTo(trial[(i + Vector<double>.Count)..]);
            }
            for (; i < d32.Length; i++)
                trial[i] = position[i] + t * d32[i];
            return;
        }
        for (int i = 0; i < d.Length; i++)
            trial[i] = position[i] + t * double.CreateTruncating(d[i]);
    }

    /// <summary>s = a − b and y = c − e (rounded to T); returns Σ s·y.</summary>
    public static double Differences<T>(Span<T> s, ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<T> y,
        ReadOnlySpan<double> c, ReadOnlySpan<double> e) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sum = 0;
        for (int i = 0; i < s.Length; i++)
        {
            s[i] = T.CreateTruncating(a[i] - b[i]);
            y[i] = T.CreateTruncating(c[i] - e[i]);
            sum += double.CreateTruncating(s[i]) * double.CreateTruncating(y[i]);
        }
        return sum;
    }

    /// <summary>Σ a·b.</summary>
    public static double Dot<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
        {
            ReadOnlySpan<float> a32 = Cast<T, float>(a), b32 = Cast<T, float>(b);
            return Dot32(a32, b32, a32.Length);
        }
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
            sum += double.CreateTruncating(a[i]) * double.CreateTruncating(b[i]);
        return sum;
    }

    /// <summary>Σ a·b over [0, count) in float64 lanes (whole vectors), then the rest in order.</summary>
    private static double Dot32(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int count)
    {
        var low = Vector<double>.Zero;
        var high = Vector<double>.Zero;
        int i = 0;
        for (; i + Vector<float>.Count <= count; i += Vector<float>.Count)
        {
            Vector.Widen(new Vector<float>(a[i..]), out Vector<double> a0, out Vector<double> a1);
            Vector.Widen(new Vector<float>(b[i..]), out Vector<double> b0, out Vector<double> b1);
            low += a0 * b0;
            high += a1 * b1;
        }
        return Vector.Sum(low + high) + Tail(a, b, i, count);
    }

    private static double Tail(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int from, int count = -1)
    {
        double sum = 0;
        for (int i = from; i < (count < 0 ? a.Length : count); i++)
            sum += (double)a[i] * b[i];
        return sum;
    }

    /// <summary>q = g rounded to float in lanes; returns the index the lanes reached (the rest is done here too).</summary>
    private static int Narrow(ReadOnlySpan<double> g, Span<float> q)
    {
        int i = 0;
        for (; i + Vector<float>.Count <= q.Length; i += Vector<float>.Count)
            Vector.Narrow(new Vector<double>(g[i..]), new Vector<double>(g[(i + Vector<double>.Count)..])).CopyTo(q[i..]);
        for (int j = i; j < q.Length; j++)
            q[j] = (float)g[j];
        return i;
    }

    private static Span<TTo> Cast<TFrom, TTo>(Span<TFrom> span) where TFrom : unmanaged where TTo : unmanaged =>
        MemoryMarshal.Cast<TFrom, TTo>(span);

    private static ReadOnlySpan<TTo> Cast<TFrom, TTo>(ReadOnlySpan<TFrom> span) where TFrom : unmanaged where TTo : unmanaged =>
        MemoryMarshal.Cast<TFrom, TTo>(span);
}
