using System.Numerics;
using System.Runtime.CompilerServices;

namespace SoftmaxGpu.Training;

/// <summary>
/// The loops of <see cref="GramCurvatureHistory"/> on one block of at most <see cref="GramCurvatureHistory.Block"/>
/// entries, in float vector lanes: sums run in lanes in index order and the lanes are added at the end, so a
/// block's result is fixed by its inputs.
/// </summary>
internal static class GramKernels
{
    /// <summary>into = (float)v.</summary>
    public static void Narrow(ReadOnlySpan<double> v, Span<float> into)
    {
        int i = 0;
        for (; i + Vector<float>.Count <= into.Length; i += Vector<float>.Count)
            Vector.Narrow(new Vector<double>(v[i..]), new Vector<double>(v[(i + Vector<double>.Count)..])).CopyTo(into[i..]);
        for (; i < into.Length; i++)
            into[i] = (float)v[i];
    }

    /// <summary>into = (float)(a − b), the difference taken in float64.</summary>
    public static void Difference(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<float> into)
    {
        int i = 0;
        int half = Vector<double>.Count;
        for (; i + Vector<float>.Count <= into.Length; i += Vector<float>.Count)
            Vector.Narrow(new Vector<double>(a[i..]) - new Vector<double>(b[i..]),
                new Vector<double>(a[(i + half)..]) - new Vector<double>(b[(i + half)..])).CopyTo(into[i..]);
        for (; i < into.Length; i++)
            into[i] = (float)(a[i] - b[i]);
    }

    /// <summary>Σ a·b.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = Vector<float>.Zero;
        int i = 0;
        for (; i + Vector<float>.Count <= a.Length; i += Vector<float>.Count)
            sum += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
        float total = Vector.Sum(sum);
        for (; i < a.Length; i++)
            total += a[i] * b[i];
        return total;
    }

    /// <summary>(Σ s·b, Σ y·b, Σ g·b): b read once for three dots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (float S, float Y, float G) Dot3(ReadOnlySpan<float> s, ReadOnlySpan<float> y, ReadOnlySpan<float> g, ReadOnlySpan<float> b)
    {
        Vector<float> sumS = Vector<float>.Zero, sumY = Vector<float>.Zero, sumG = Vector<float>.Zero;
        int i = 0;
        for (; i + Vector<float>.Count <= b.Length; i += Vector<float>.Count)
        {
            var v = new Vector<float>(b[i..]);
            sumS += new Vector<float>(s[i..]) * v;
            sumY += new Vector<float>(y[i..]) * v;
            sumG += new Vector<float>(g[i..]) * v;
        }
        (float ts, float ty, float tg) = (Vector.Sum(sumS), Vector.Sum(sumY), Vector.Sum(sumG));
        for (; i < b.Length; i++)
        {
            ts += s[i] * b[i];
            ty += y[i] * b[i];
            tg += g[i] * b[i];
        }
        return (ts, ty, tg);
    }

    /// <summary>trial = position + t·d, in float64.</summary>
    public static void Step(Span<double> trial, ReadOnlySpan<double> position, double t, ReadOnlySpan<float> d)
    {
        int i = 0;
        for (; i + Vector<float>.Count <= d.Length; i += Vector<float>.Count)
        {
            Vector.Widen(new Vector<float>(d[i..]), out Vector<double> low, out Vector<double> high);
            (new Vector<double>(position[i..]) + t * low).CopyTo(trial[i..]);
            (new Vector<double>(position[(i + Vector<double>.Count)..]) + t * high).CopyTo(trial[(i + Vector<double>.Count)..]);
        }
        for (; i < d.Length; i++)
            trial[i] = position[i] + t * d[i];
    }

    /// <summary>d *= a.</summary>
    public static void Scale(Span<float> d, float a)
    {
        int i = 0;
        for (; i + Vector<float>.Count <= d.Length; i += Vector<float>.Count)
            (new Vector<float>(d[i..]) * a).CopyTo(d[i..]);
        for (; i < d.Length; i++)
            d[i] *= a;
    }

    /// <summary>into = a·x.</summary>
    public static void Scale(ReadOnlySpan<float> x, float a, Span<float> into)
    {
        int i = 0;
        for (; i + Vector<float>.Count <= x.Length; i += Vector<float>.Count)
            (new Vector<float>(x[i..]) * a).CopyTo(into[i..]);
        for (; i < x.Length; i++)
            into[i] = a * x[i];
    }

    /// <summary>d += a·x.</summary>
    public static void Axpy(Span<float> d, float a, ReadOnlySpan<float> x)
    {
        var lanes = new Vector<float>(a);
        int i = 0;
        for (; i + Vector<float>.Count <= d.Length; i += Vector<float>.Count)
            (new Vector<float>(d[i..]) + lanes * new Vector<float>(x[i..])).CopyTo(d[i..]);
        for (; i < d.Length; i++)
            d[i] += a * x[i];
    }
}
