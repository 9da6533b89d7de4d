using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace SoftmaxGpu.Kernels.Host;

/// <summary>
/// The two matrix products of a tile of rows, register-blocked with <see cref="Vector{T}"/> (8 floats on
/// AVX2/AVX-512, 4 on NEON) so that each loaded vector feeds several multiply-adds:
/// Z = X·Wᵀ + b in blocks of 4 rows × 4 classes (16 running sums, 8 loads per 16 multiply-adds), and
/// dW += Gᵀ·X in blocks of 2 classes × 8 vectors of features (16 sums held across the tile's rows, 8 loads per
/// 16 multiply-adds). Edges (rows, classes, features not a multiple of the block) take narrower blocks and a
/// scalar tail. Rows are pointers, so a tile may be gathered from anywhere in X.
/// </summary>
public static unsafe class HostTile
{
    private static int V => Vector<float>.Count;

    /// <summary>z[r, c] = b[c] + Σ_j x_r[j]·W[c, j] for the tile's rows; z is [count, K] row-major.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no tier-0 code
    public static void Logits(nint* rows, int count, float* w, float* b, int d, int k, float* z)
    {
        int r = 0;
        for (; r + 4 <= count; r += 4)
        {
            float* x0 = (float*)rows[r], x1 = (float*)rows[r + 1], x2 = (float*)rows[r + 2], x3 = (float*)rows[r + 3];
            int c = 0;
            for (; c + 4 <= k; c += 4)
                Dot4x4(x0, x1, x2, x3, w + (long)c * d, d, z + (long)r * k + c, k, b + c);
            for (; c < k; c++)
                Dot4x1(x0, x1, x2, x3, w + (long)c * d, d, z + (long)r * k + c, k, b[c]);
        }
        for (; r < count; r++)
        {
            var x = new ReadOnlySpan<float>((float*)rows[r], d);
            for (int c = 0; c < k; c++)
                z[(long)r * k + c] = b[c] + TensorPrimitives.Dot(x, new ReadOnlySpan<float>(w + (long)c * d, d));
        }
    }

    /// <summary>dW[c, :] += Σ_r g[r, c]·x_r over the tile's rows; g is [count, K] row-major, dW [K, D].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddGradient(nint* rows, int count, float* g, int d, int k, float* dw)
    {
        int c = 0;
        for (; c + 2 <= k; c += 2)
        {
            float* dw0 = dw + (long)c * d, dw1 = dw0 + d;
            int j = 0;
            for (; j + 8 * V <= d; j += 8 * V)
                Axpy2x8(rows, count, g + c, k, dw0 + j, dw1 + j, j);
            for (; j + V <= d; j += V)
                Axpy2x1(rows, count, g + c, k, dw0 + j, dw1 + j, j);
            for (; j < d; j++)
            {
                float s0 = dw0[j], s1 = dw1[j];
                for (int r = 0; r < count; r++)
                {
                    float x = ((float*)rows[r])[j];
                    s0 += g[(long)r * k + c] * x;
                    s1 += g[(long)r * k + c + 1] * x;
                }
                (dw0[j], dw1[j]) = (s0, s1);
            }
        }
        if (c < k) // an odd last class: one multiply-add of length D per row
        {
            var target = new Span<float>(dw + (long)c * d, d);
            for (int r = 0; r < count; r++)
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>((float*)rows[r], d), g[(long)r * k + c], target, target);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Load(float* p) => Unsafe.ReadUnaligned<Vector<float>>(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* p, Vector<float> v) => Unsafe.WriteUnaligned(p, v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Fma(Vector<float> a, Vector<float> b, Vector<float> c) => Vector.FusedMultiplyAdd(a, b, c);

    /// <summary>4 rows × 4 classes of z: 16 vector sums over D, then each reduced, the tail added, b added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4x4(float* x0, float* x1, float* x2, float* x3, float* w, int d, float* z, int k, float* b)
    {
        float* w0 = w, w1 = w + d, w2 = w + 2L * d, w3 = w + 3L * d;
        Vector<float> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector<float> s10 = default, s11 = default, s12 = default, s13 = default;
        Vector<float> s20 = default, s21 = default, s22 = default, s23 = default;
        Vector<float> s30 = default, s31 = default, s32 = default, s33 = default;
        int j = 0;
        for (; j + V <= d; j += V)
        {
            Vector<float> a0 = Load(x0 + j), a1 = Load(x1 + j), a2 = Load(x2 + j), a3 = Load(x3 + j);
            Vector<float> c0 = Load(w0 + j), c1 = Load(w1 + j), c2 = Load(w2 + j), c3 = Load(w3 + j);
            s00 = Fma(a0, c0, s00); s01 = Fma(a0, c1, s01); s02 = Fma(a0, c2, s02); s03 = Fma(a0, c3, s03);
            s10 = Fma(a1, c0, s10); s11 = Fma(a1, c1, s11); s12 = Fma(a1, c2, s12); s13 = Fma(a1, c3, s13);
            s20 = Fma(a2, c0, s20); s21 = Fma(a2, c1, s21); s22 = Fma(a2, c2, s22); s23 = Fma(a2, c3, s23);
            s30 = Fma(a3, c0, s30); s31 = Fma(a3, c1, s31); s32 = Fma(a3, c2, s32); s33 = Fma(a3, c3, s33);
        }
        Finish(z, b[0], Vector.Sum(s00), x0, w0, j, d);
        Finish(z + 1, b[1], Vector.Sum(s01), x0, w1, j, d);
        Finish(z + 2, b[2], Vector.Sum(s02), x0, w2, j, d);
        Finish(z + 3, b[3], Vector.Sum(s03), x0, w3, j, d);
        Finish(z + k, b[0], Vector.Sum(s10), x1, w0, j, d);
        Finish(z + k + 1, b[1], Vector.Sum(s11), x1, w1, j, d);
        Finish(z + k + 2, b[2], Vector.Sum(s12), x1, w2, j, d);
        Finish(z + k + 3, b[3], Vector.Sum(s13), x1, w3, j, d);
        Finish(z + 2L * k, b[0], Vector.Sum(s20), x2, w0, j, d);
        Finish(z + 2L * k + 1, b[1], Vector.Sum(s21), x2, w1, j, d);
        Finish(z + 2L * k + 2, b[2], Vector.Sum(s22), x2, w2, j, d);
        Finish(z + 2L * k + 3, b[3], Vector.Sum(s23), x2, w3, j, d);
        Finish(z + 3L * k, b[0], Vector.Sum(s30), x3, w0, j, d);
        Finish(z + 3L * k + 1, b[1], Vector.Sum(s31), x3, w1, j, d);
        Finish(z + 3L * k + 2, b[2], Vector.Sum(s32), x3, w2, j, d);
        Finish(z + 3L * k + 3, b[3], Vector.Sum(s33), x3, w3, j, d);
    }

    /// <summary>4 rows × 1 class of z.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4x1(float* x0, float* x1, float* x2, float* x3, float* w, int d, float* z, int k, float b)
    {
        Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int j = 0;
        for (; j + V <= d; j += V)
        {
            Vector<float> c = Load(w + j);
            s0 = Fma(Load(x0 + j), c, s0);
            s1 = Fma(Load(x1 + j), c, s1);
            s2 = Fma(Load(x2 + j), c, s2);
            s3 = Fma(Load(x3 + j), c, s3);
        }
        Finish(z, b, Vector.Sum(s0), x0, w, j, d);
        Finish(z + k, b, Vector.Sum(s1), x1, w, j, d);
        Finish(z + 2L * k, b, Vector.Sum(s2), x2, w, j, d);
        Finish(z + 3L * k, b, Vector.Sum(s3), x3, w, j, d);
    }

    /// <summary>*z = b + (vector part + the scalar tail j … D − 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(float* z, float b, float sum, float* x, float* w, int j, int d)
    {
        for (; j < d; j++)
            sum += x[j] * w[j];
        *z = b + sum;
    }

    /// <summary>2 classes × 8 vectors of dW held in 16 registers across the tile's rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy2x8(nint* rows, int count, float* g, int k, float* dw0, float* dw1, int j)
    {
        int v = V;
        Vector<float> a0 = Load(dw0), a1 = Load(dw0 + v), a2 = Load(dw0 + 2 * v), a3 = Load(dw0 + 3 * v);
        Vector<float> a4 = Load(dw0 + 4 * v), a5 = Load(dw0 + 5 * v), a6 = Load(dw0 + 6 * v), a7 = Load(dw0 + 7 * v);
        Vector<float> b0 = Load(dw1), b1 = Load(dw1 + v), b2 = Load(dw1 + 2 * v), b3 = Load(dw1 + 3 * v);
        Vector<float> b4 = Load(dw1 + 4 * v), b5 = Load(dw1 + 5 * v), b6 = Load(dw1 + 6 * v), b7 = Load(dw1 + 7 * v);
        for (int r = 0; r < count; r++)
        {
            float* x = (float*)rows[r] + j;
            var g0 = new Vector<float>(g[(long)r * k]);
            var g1 = new Vector<float>(g[(long)r * k + 1]);
            Vector<float> x0 = Load(x), x1 = Load(x + v), x2 = Load(x + 2 * v), x3 = Load(x + 3 * v);
            a0 = Fma(x0, g0, a0); a1 = Fma(x1, g0, a1); a2 = Fma(x2, g0, a2); a3 = Fma(x3, g0, a3);
            b0 = Fma(x0, g1, b0); b1 = Fma(x1, g1, b1); b2 = Fma(x2, g1, b2); b3 = Fma(x3, g1, b3);
            Vector<float> x4 = Load(x + 4 * v), x5 = Load(x + 5 * v), x6 = Load(x + 6 * v), x7 = Load(x + 7 * v);
            a4 = Fma(x4, g0, a4); a5 = Fma(x5, g0, a5); a6 = Fma(x6, g0, a6); a7 = Fma(x7, g0, a7);
            b4 = Fma(x4, g1, b4); b5 = Fma(x5, g1, b5); b6 = Fma(x6, g1, b6); b7 = Fma(x7, g1, b7);
        }
        Store(dw0, a0); Store(dw0 + v, a1); Store(dw0 + 2 * v, a2); Store(dw0 + 3 * v, a3);
        Store(dw0 + 4 * v, a4); Store(dw0 + 5 * v, a5); Store(dw0 + 6 * v, a6); Store(dw0 + 7 * v, a7);
        Store(dw1, b0); Store(dw1 + v, b1); Store(dw1 + 2 * v, b2); Store(dw1 + 3 * v, b3);
        Store(dw1 + 4 * v, b4); Store(dw1 + 5 * v, b5); Store(dw1 + 6 * v, b6); Store(dw1 + 7 * v, b7);
    }

    /// <summary>2 classes × 1 vector of dW across the tile's rows (the features left after whole 8-vector blocks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy2x1(nint* rows, int count, float* g, int k, float* dw0, float* dw1, int j)
    {
        Vector<float> a = Load(dw0), b = Load(dw1);
        for (int r = 0; r < count; r++)
        {
            Vector<float> x = Load((float*)rows[r] + j);
            a = Fma(x, new Vector<float>(g[(long)r * k]), a);
            b = Fma(x, new Vector<float>(g[(long)r * k + 1]), b);
        }
        Store(dw0, a);
        Store(dw1, b);
    }
}
