using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SoftmaxGpu.Training;

/// <summary>
/// The loops of <see cref="GramCurvatureHistory"/> on one block of at most <see cref="GramCurvatureHistory.Block"/>
/// entries, in float vector lanes: sums run in lanes in index order and the lanes are added at the end, so a
/// block's result is fixed by its inputs. The pairs are bfloat16 (the top 16 bits of a float32): widened by a shift.
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

    /// <summary>into = (float)v; returns max |into|.</summary>
    public static float NarrowMaxAbs(ReadOnlySpan<double> v, Span<float> into)
    {
        var max = Vector<float>.Zero;
        int i = 0;
        for (; i + Vector<float>.Count <= into.Length; i += Vector<float>.Count)
        {
            Vector<float> narrow = Vector.Narrow(new Vector<double>(v[i..]), new Vector<double>(v[(i + Vector<double>.Count)..]));
            narrow.CopyTo(into[i..]);
            max = Vector.Max(max, Vector.Abs(narrow));
        }
        float total = 0;
        for (int lane = 0; lane < Vector<float>.Count; lane++)
            total = Math.Max(total, max[lane]);
        for (; i < into.Length; i++)
        {
            into[i] = (float)v[i];
            total = Math.Max(total, Math.Abs(into[i]));
        }
        return total;
    }

    /// <summary>into = the floats of bfloat16 <paramref name="bits"/>.</summary>
    public static void FromBFloat16(ReadOnlySpan<ushort> bits, Span<float> into)
    {
        int n = bits.Length, i = 0;
        for (; i + Vector<ushort>.Count <= n; i += Vector<ushort>.Count)
        {
            (Vector<float> low, Vector<float> high) = Widen(new Vector<ushort>(bits[i..]));
            low.CopyTo(into[i..]);
            high.CopyTo(into[(i + Vector<float>.Count)..]);
        }
        for (; i < n; i++)
            into[i] = FromBFloat16(bits[i]);
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

    /// <summary>
    /// Σ a·b in four independent vector sums (the k-th of every four vectors into sum k, the four added at the end):
    /// <see cref="Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>'s one sum waits on its own adds, and the D-weighted
    /// dots of an L-BFGS update take 21 of them an entry.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot4(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length;
        if (b.Length < n)
            throw new ArgumentException("b is shorter than a");
        ref float a0 = ref MemoryMarshal.GetReference(a), b0 = ref MemoryMarshal.GetReference(b);
        Vector<float> s0 = Vector<float>.Zero, s1 = Vector<float>.Zero, s2 = Vector<float>.Zero, s3 = Vector<float>.Zero;
        nuint i = 0, w = (nuint)Vector<float>.Count;
        for (; (int)(i + 4 * w) <= n; i += 4 * w)
        {
            s0 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref a0, i), Vector.LoadUnsafe(ref b0, i), s0);
            s1 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref a0, i + w), Vector.LoadUnsafe(ref b0, i + w), s1);
            s2 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref a0, i + 2 * w), Vector.LoadUnsafe(ref b0, i + 2 * w), s2);
            s3 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref a0, i + 3 * w), Vector.LoadUnsafe(ref b0, i + 3 * w), s3);
        }
        for (; (int)(i + w) <= n; i += w)
            s0 = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref a0, i), Vector.LoadUnsafe(ref b0, i), s0);
        float total = Vector.Sum((s0 + s1) + (s2 + s3));
        for (int j = (int)i; j < n; j++)
            total += a[j] * b[j];
        return total;
    }

    /// <summary>(Σ s·b, Σ y·b, Σ g·b) with b in bfloat16: b read once for three dots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (float S, float Y, float G) Dot3(ReadOnlySpan<float> s, ReadOnlySpan<float> y, ReadOnlySpan<float> g, ReadOnlySpan<ushort> b)
    {
        int n = b.Length;
        if (s.Length < n || y.Length < n || g.Length < n)
            throw new ArgumentException("the probes are shorter than the basis block");
        ref float s0 = ref MemoryMarshal.GetReference(s), y0 = ref MemoryMarshal.GetReference(y), g0 = ref MemoryMarshal.GetReference(g);
        ref ushort b0 = ref MemoryMarshal.GetReference(b);
        Vector<float> sumS = Vector<float>.Zero, sumY = Vector<float>.Zero, sumG = Vector<float>.Zero;
        nuint i = 0, width = (nuint)Vector<float>.Count;
        for (; (int)i + Vector<ushort>.Count <= n; i += (nuint)Vector<ushort>.Count)
        {
            (Vector<float> low, Vector<float> high) = Widen(Vector.LoadUnsafe(ref b0, i));
            sumS = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref s0, i), low, sumS);
            sumY = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref y0, i), low, sumY);
            sumG = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref g0, i), low, sumG);
            sumS = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref s0, i + width), high, sumS);
            sumY = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref y0, i + width), high, sumY);
            sumG = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref g0, i + width), high, sumG);
        }
        (float ts, float ty, float tg) = (Vector.Sum(sumS), Vector.Sum(sumY), Vector.Sum(sumG));
        for (int j = (int)i; j < n; j++)
        {
            float v = FromBFloat16(b[j]);
            ts += s[j] * v;
            ty += y[j] * v;
            tg += g[j] * v;
        }
        return (ts, ty, tg);
    }

    /// <summary>Σ a·b with b in bfloat16.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<ushort> b)
    {
        int n = b.Length;
        if (a.Length < n)
            throw new ArgumentException("the probe is shorter than the basis block");
        ref float a0 = ref MemoryMarshal.GetReference(a);
        ref ushort b0 = ref MemoryMarshal.GetReference(b);
        var sum = Vector<float>.Zero;
        nuint i = 0, width = (nuint)Vector<float>.Count;
        for (; (int)i + Vector<ushort>.Count <= n; i += (nuint)Vector<ushort>.Count)
        {
            (Vector<float> low, Vector<float> high) = Widen(Vector.LoadUnsafe(ref b0, i));
            sum = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref a0, i), low, sum);
            sum = Vector.FusedMultiplyAdd(Vector.LoadUnsafe(ref a0, i + width), high, sum);
        }
        float total = Vector.Sum(sum);
        for (int j = (int)i; j < n; j++)
            total += a[j] * FromBFloat16(b[j]);
        return total;
    }

    /// <summary>x rounded to bfloat16 (to nearest, ties to even) in place, and its 16 bits into <paramref name="into"/>.</summary>
    public static void ToBFloat16(Span<float> x, Span<ushort> into)
    {
        Span<uint> bits = MemoryMarshal.Cast<float, uint>(x);
        int i = 0, width = Vector<uint>.Count;
        for (; i + Vector<ushort>.Count <= bits.Length; i += Vector<ushort>.Count)
        {
            Vector<uint> low = Round(new Vector<uint>(bits[i..])), high = Round(new Vector<uint>(bits[(i + width)..]));
            Vector.ShiftLeft(low, 16).CopyTo(bits[i..]);
            Vector.ShiftLeft(high, 16).CopyTo(bits[(i + width)..]);
            Vector.Narrow(low, high).CopyTo(into[i..]);
        }
        for (; i < bits.Length; i++)
        {
            uint rounded = (bits[i] + 0x7FFFu + ((bits[i] >> 16) & 1)) >> 16;
            bits[i] = rounded << 16;
            into[i] = (ushort)rounded;
        }
    }

    /// <summary>The top 16 bits of float32 <paramref name="bits"/> after rounding to nearest, ties to even.</summary>
    private static Vector<uint> Round(Vector<uint> bits) =>
        Vector.ShiftRightLogical(bits + new Vector<uint>(0x7FFFu) + (Vector.ShiftRightLogical(bits, 16) & Vector<uint>.One), 16);

    /// <summary>The float of bfloat16 <paramref name="bits"/>.</summary>
    private static float FromBFloat16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>bfloat16 lanes as two float vectors (the lower and upper halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector<float> Low, Vector<float> High) Widen(Vector<ushort> bits)
    {
        Vector.Widen(bits, out Vector<uint> low, out Vector<uint> high);
        return (Vector.AsVectorSingle(Vector.ShiftLeft(low, 16)), Vector.AsVectorSingle(Vector.ShiftLeft(high, 16)));
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

    /// <summary>trial = position + t·d, in float64, with d in bfloat16.</summary>
    public static void Step(Span<double> trial, ReadOnlySpan<double> position, double t, ReadOnlySpan<ushort> d)
    {
        int i = 0;
        for (; i + Vector<ushort>.Count <= d.Length; i += Vector<ushort>.Count)
        {
            (Vector<float> low, Vector<float> high) = Widen(new Vector<ushort>(d[i..]));
            Step(trial[i..], position[i..], t, low);
            Step(trial[(i + Vector<float>.Count)..], position[(i + Vector<float>.Count)..], t, high);
        }
        for (; i < d.Length; i++)
            trial[i] = position[i] + t * FromBFloat16(d[i]);
    }

    /// <summary>trial = position + t·d over one float vector's lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(Span<double> trial, ReadOnlySpan<double> position, double t, Vector<float> d)
    {
        Vector.Widen(d, out Vector<double> low, out Vector<double> high);
        (new Vector<double>(position) + t * low).CopyTo(trial);
        (new Vector<double>(position[Vector<double>.Count..]) + t * high).CopyTo(trial[Vector<double>.Count..]);
    }

    /// <summary>into = a·b, entry by entry.</summary>
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> into)
    {
        int i = 0;
        for (; i + Vector<float>.Count <= into.Length; i += Vector<float>.Count)
            (new Vector<float>(a[i..]) * new Vector<float>(b[i..])).CopyTo(into[i..]);
        for (; i < into.Length; i++)
            into[i] = a[i] * b[i];
    }

    /// <summary>(Σ y·D·y, Σ d²/D): the two sums the update of H₀'s diagonal D takes from a new pair (s = t·d).</summary>
    public static (float YDY, float DOverD) DiagonalSums(ReadOnlySpan<float> d, ReadOnlySpan<float> y, ReadOnlySpan<float> scales)
    {
        Vector<float> yDy = Vector<float>.Zero, dOverD = Vector<float>.Zero;
        int i = 0;
        for (; i + Vector<float>.Count <= scales.Length; i += Vector<float>.Count)
        {
            Vector<float> dv = new(d[i..]), yv = new(y[i..]), scale = new(scales[i..]);
            yDy += yv * scale * yv;
            dOverD += dv * dv / scale;
        }
        (float a, float b) = (Vector.Sum(yDy), Vector.Sum(dOverD));
        for (; i < scales.Length; i++)
        {
            a += y[i] * scales[i] * y[i];
            b += d[i] * d[i] / scales[i];
        }
        return (a, b);
    }

    /// <summary>
    /// D_i = 1 / (c/D_i + y_i²/sᵀy − c·(s_i/D_i)² / Σ s²/D), Gilbert and Lemaréchal's update of H₀'s diagonal by a new
    /// pair (as <see cref="HistoryKernels.DiagonalUpdate"/>, in float); an entry that rounding leaves without a curvature
    /// whose inverse is positive and finite (negative, zero, overflowed) is only rescaled (D_i/c).
    /// </summary>
    public static void DiagonalUpdate(Span<float> scales, ReadOnlySpan<float> s, ReadOnlySpan<float> y, float c, float sy, float sOverD)
    {
        Vector<float> vc = new(c), inverseSy = new(1 / sy), cOverSum = new(c / sOverD), infinity = new(float.PositiveInfinity);
        int i = 0;
        for (; i + Vector<float>.Count <= scales.Length; i += Vector<float>.Count)
        {
            Vector<float> scale = new(scales[i..]), yv = new(y[i..]), sd = new Vector<float>(s[i..]) / scale;
            Vector<float> curvature = vc / scale + yv * yv * inverseSy - cOverSum * sd * sd, inverse = Vector<float>.One / curvature;
            Vector<int> usable = Vector.GreaterThan(inverse, Vector<float>.Zero) & Vector.LessThan(inverse, infinity);
            Vector.ConditionalSelect(usable, inverse, scale / vc).CopyTo(scales[i..]);
        }
        for (; i < scales.Length; i++)
        {
            float sd = s[i] / scales[i];
            float curvature = c / scales[i] + y[i] * y[i] * (1 / sy) - c / sOverD * sd * sd;
            float inverse = 1 / curvature;
            scales[i] = inverse > 0 && float.IsFinite(inverse) ? inverse : scales[i] / c;
        }
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

    /// <summary>
    /// d += Σ_t a_t·x_t with the x_t in bfloat16 (each read from entry <paramref name="offset"/> on), the terms added in
    /// order (the bits of adding them one by one): d is read and written once for all of them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Axpy(Span<float> d, ReadOnlySpan<float> a, ushort[][] x, int offset)
    {
        int n = d.Length;
        if (a.Length != x.Length)
            throw new ArgumentException("one scale a term");
        foreach (ushort[] term in x)
            if (term.Length < offset + n)
                throw new ArgumentException("a term is shorter than the direction block");
        ref float d0 = ref MemoryMarshal.GetReference(d);
        nuint i = 0, width = (nuint)Vector<float>.Count;
        for (; (int)i + Vector<ushort>.Count <= n; i += (nuint)Vector<ushort>.Count)
        {
            Vector<float> low = Vector.LoadUnsafe(ref d0, i), high = Vector.LoadUnsafe(ref d0, i + width);
            for (int t = 0; t < x.Length; t++)
            {
                (Vector<float> l, Vector<float> h) = Widen(Vector.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(x[t]), (nuint)offset + i));
                var lanes = new Vector<float>(a[t]);
                low = Vector.FusedMultiplyAdd(lanes, l, low);
                high = Vector.FusedMultiplyAdd(lanes, h, high);
            }
            low.StoreUnsafe(ref d0, i);
            high.StoreUnsafe(ref d0, i + width);
        }
        for (int j = (int)i; j < n; j++)
            for (int t = 0; t < x.Length; t++)
                d[j] += a[t] * FromBFloat16(x[t][offset + j]);
    }
}
