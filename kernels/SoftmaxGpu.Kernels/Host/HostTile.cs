using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SoftmaxGpu.Kernels.Host;

/// <summary>
/// The two matrix products of a tile of rows, register-blocked so that each loaded vector feeds several
/// multiply-adds, in the widest vectors the CPU has (<see cref="IFloats{TSelf}"/>: 16 floats with AVX-512,
/// else <see cref="Vector{T}"/>'s 8 on AVX2 or 4 on NEON; the kernels are written once, generic over it):
/// Z = X·Wᵀ + b in blocks of 4 rows × 3 classes (12 running sums, then one horizontal sum each)
/// or, for many classes, through the tile's transposed copy Xᵀ in blocks of 4 classes (2 with 16 vector registers)
/// × 4 vectors of rows (no horizontal sums; <see cref="LogitsTransposed"/>); and dW += Gᵀ·X in blocks of 4 (or 2) classes × 3 (or 6)
/// vectors of features (12 sums held across the tile's rows, 7 loads per 12 multiply-adds). Twelve sums leave room
/// for the operands in AVX2's 16 vector registers (<see cref="Axpy4x3"/>). Edges (rows,
/// classes, features not a multiple of the block) take narrower blocks and a scalar tail. Rows are pointers, so
/// a tile may be gathered from anywhere in X.
/// </summary>
public static unsafe class HostTile
{
    /// <summary>Floats per vector the kernels use on this CPU.</summary>
    public static int Width => Vector512.IsHardwareAccelerated ? Floats512.Count : FloatsT.Count;

    /// <summary>Whether the CPU has 32 vector registers (AVX-512, NEON) rather than x64's 16 without AVX-512.</summary>
    public static bool ManyRegisters => Avx512F.IsSupported || !X86Base.IsSupported;

    /// <summary>z[r, c] = b[c] + Σ_j x_r[j]·W[c, j] for the tile's rows; z is [count, K] row-major.</summary>
    /// <param name="ahead">The next tile's rows, read into cache while this tile computes (<see cref="Ahead"/>).</param>
    public static void Logits(nint* rows, int count, float* w, float* b, int d, int k, float* z, Ahead ahead = default)
    {
        if (Vector512.IsHardwareAccelerated)
            Logits<Floats512>(rows, count, w, b, d, k, z, ahead);
        else
            Logits<FloatsT>(rows, count, w, b, d, k, z, ahead);
    }

    /// <summary>dW[c, :] += Σ_r g[r, c]·x_r over the tile's rows; g is [count, K] row-major, dW [K, D].</summary>
    public static void AddGradient(nint* rows, int count, float* g, int d, int k, float* dw)
    {
        if (Vector512.IsHardwareAccelerated)
            AddGradient<Floats512>(rows, count, g, d, k, dw);
        else
            AddGradient<FloatsT>(rows, count, g, d, k, dw);
    }

    /// <summary>Features per slab of a transposed tile: 128 × <see cref="HostStep.TileRows"/> floats (32 KiB) stay in the first-level cache while every class reads them.</summary>
    public const int SlabFeatures = 128;

    /// <summary>
    /// z[r, c] = b[c] + Σ_j x_r[j]·W[c, j] through a transposed copy of the tile, for many classes: no horizontal sums.
    /// </summary>
    /// <param name="xt">Scratch, Xᵀ of the tile: [D, TileRows].</param>
    /// <param name="zt">Scratch, Zᵀ of the tile: [K, TileRows].</param>
    public static void LogitsTransposed(nint* rows, int count, float* w, float* b, int d, int k, float* z, float* xt, float* zt,
        Ahead ahead = default)
    {
        if (Vector512.IsHardwareAccelerated)
            LogitsTransposed<Floats512>(rows, count, w, b, d, k, z, xt, zt, ahead);
        else
            LogitsTransposed<FloatsT>(rows, count, w, b, d, k, z, xt, zt, ahead);
    }

    /// <summary>
    /// The transposed logits at one vector width (public for the tests). Zᵀ[c, :] = b[c] + Σ_j W[c, j]·Xᵀ[j, :]:
    /// blocks of 4 classes (2 on CPUs with 16 vector registers) × 4 vectors of rows, each W[c, j] broadcast, summed
    /// slab by slab of <see cref="SlabFeatures"/> features so that the slab of Xᵀ is read from the first-level cache by
    /// every class.
    /// Columns of Xᵀ past <paramref name="count"/> hold old rows; their sums are never read.
    /// </summary>
    /// <param name="manyRegisters">Blocks for 32 vector registers, or for 16; null: this CPU's (<see cref="ManyRegisters"/>).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LogitsTransposed<TV>(nint* rows, int count, float* w, float* b, int d, int k, float* z, float* xt, float* zt,
        Ahead ahead = default, bool? manyRegisters = null)
        where TV : struct, IFloats<TV>
    {
        const int t = HostStep.TileRows;
        int block = 4 * TV.Count; // rows of a block; t is a multiple of it at every width (64 = 4 × 16 = 8 × 8 = 16 × 4)
        Transpose(rows, count, d, xt);
        for (int c = 0; c < k; c++)
            new Span<float>(zt + (long)c * t, t).Fill(b[c]);
        // Blocks of 4 classes where the CPU has 32 vector registers, of 2 where it has 16 (AVX2: 16 sums spill).
        int classes = (manyRegisters ?? ManyRegisters) ? 4 : 2;
        // The next tile is read ahead over every kernel call of this one, a share of its rows each.
        int calls = (d + SlabFeatures - 1) / SlabFeatures * (t / block) * (k / classes + k % classes), call = 0;
        for (int j0 = 0; j0 < d; j0 += SlabFeatures)
        {
            int j1 = Math.Min(d, j0 + SlabFeatures);
            for (int r0 = 0; r0 < t; r0 += block)
            {
                int c = 0;
                for (; c + classes <= k; c += classes)
                {
                    ahead.Share(0, t, call++, calls, d, xt, out float* a0, out float* a1);
                    if (classes == 4)
                        Broadcast4x4<TV>(xt + r0, w + (long)c * d, d, j0, j1, zt + (long)c * t + r0, a0, a1);
                    else
                        Broadcast2x4<TV>(xt + r0, w + (long)c * d, d, j0, j1, zt + (long)c * t + r0, a0, a1);
                }
                for (; c < k; c++)
                {
                    ahead.Share(0, t, call++, calls, d, xt, out float* a0, out float* a1);
                    Broadcast1x4<TV>(xt + r0, w + (long)c * d, d, j0, j1, zt + (long)c * t + r0, a0, a1);
                }
            }
        }
        for (int r = 0; r < count; r++)
        {
            for (int c = 0; c < k; c++)
                z[(long)r * k + c] = zt[(long)c * t + r];
        }
    }

    /// <summary>
    /// Xᵀ[j, r] = x_r[j] for the tile's rows, in blocks of 16 features so that the written lines stay in cache;
    /// with SSE, 4 × 4 blocks are turned in registers (unpack, then move halves), the edges element by element.
    /// </summary>
    private static void Transpose(nint* rows, int count, int d, float* xt)
    {
        const int t = HostStep.TileRows, step = 16;
        int quads = Sse.IsSupported ? count / 4 * 4 : 0, dQuads = d / 4 * 4;
        for (int j0 = 0; j0 < d; j0 += step)
        {
            int j1 = Math.Min(d, j0 + step), q1 = Math.Min(dQuads, j1);
            for (int r = 0; r < quads; r += 4)
            {
                float* x0 = (float*)rows[r], x1 = (float*)rows[r + 1], x2 = (float*)rows[r + 2], x3 = (float*)rows[r + 3];
                int j = j0;
                for (; j < q1; j += 4)
                    Transpose4x4(x0 + j, x1 + j, x2 + j, x3 + j, xt + (long)j * t + r);
                for (; j < j1; j++)
                    (xt[(long)j * t + r], xt[(long)j * t + r + 1], xt[(long)j * t + r + 2], xt[(long)j * t + r + 3]) = (x0[j], x1[j], x2[j], x3[j]);
            }
            for (int r = quads; r < count; r++)
            {
                float* x = (float*)rows[r];
                for (int j = j0; j < j1; j++)
                    xt[(long)j * t + r] = x[j];
            }
        }
    }

    /// <summary>The 4 × 4 block at rows x0 … x3 into 4 rows of Xᵀ (<see cref="HostStep.TileRows"/> apart) at xt.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x4(float* x0, float* x1, float* x2, float* x3, float* xt)
    {
        const int t = HostStep.TileRows;
        Vector128<float> a = Sse.LoadVector128(x0), b = Sse.LoadVector128(x1);
        Vector128<float> c = Sse.LoadVector128(x2), e = Sse.LoadVector128(x3);
        Vector128<float> ab01 = Sse.UnpackLow(a, b), ab23 = Sse.UnpackHigh(a, b); // a0 b0 a1 b1, a2 b2 a3 b3
        Vector128<float> ce01 = Sse.UnpackLow(c, e), ce23 = Sse.UnpackHigh(c, e);
        Sse.Store(xt, Sse.MoveLowToHigh(ab01, ce01));         // a0 b0 c0 e0
        Sse.Store(xt + t, Sse.MoveHighToLow(ce01, ab01));     // a1 b1 c1 e1
        Sse.Store(xt + 2 * t, Sse.MoveLowToHigh(ab23, ce23)); // a2 b2 c2 e2
        Sse.Store(xt + 3 * t, Sse.MoveHighToLow(ce23, ab23)); // a3 b3 c3 e3
    }

    /// <summary>
    /// Zᵀ of 4 classes × 4 vectors of rows held in 16 registers over features j0 … j1 − 1: 4 loads of Xᵀ and 4
    /// broadcasts of W per 16 multiply-adds; a line of each of the rows <paramref name="ahead0"/> and
    /// <paramref name="ahead1"/> read ahead a step (<see cref="Ahead"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Broadcast4x4<TV>(float* xt, float* w, int d, int j0, int j1, float* zt, float* ahead0, float* ahead1)
        where TV : struct, IFloats<TV>
    {
        const int t = HostStep.TileRows;
        int v = TV.Count;
        float* w0 = w, w1 = w + d, w2 = w + 2L * d, w3 = w + 3L * d;
        float* z0 = zt, z1 = zt + t, z2 = zt + 2 * t, z3 = zt + 3 * t;
        TV a0 = TV.Load(z0), a1 = TV.Load(z0 + v), a2 = TV.Load(z0 + 2 * v), a3 = TV.Load(z0 + 3 * v);
        TV b0 = TV.Load(z1), b1 = TV.Load(z1 + v), b2 = TV.Load(z1 + 2 * v), b3 = TV.Load(z1 + 3 * v);
        TV c0 = TV.Load(z2), c1 = TV.Load(z2 + v), c2 = TV.Load(z2 + 2 * v), c3 = TV.Load(z2 + 3 * v);
        TV e0 = TV.Load(z3), e1 = TV.Load(z3 + v), e2 = TV.Load(z3 + 2 * v), e3 = TV.Load(z3 + 3 * v);
        TV x0 = default, x1 = default, x2 = default, x3 = default, g0 = default, g1 = default, g2 = default, g3 = default;
        for (int j = j0; j < j1; j++)
        {
            int line = Math.Min((j - j0) * Ahead.LineFloats, d - 1);
            Ahead.Fetch(ahead0 + line);
            Ahead.Fetch(ahead1 + line);
            float* x = xt + (long)j * t;
            x0 = TV.Load(x); x1 = TV.Load(x + v); x2 = TV.Load(x + 2 * v); x3 = TV.Load(x + 3 * v);
            g0 = TV.Broadcast(w0[j]);
            a0 = TV.Fma(x0, g0, a0); a1 = TV.Fma(x1, g0, a1); a2 = TV.Fma(x2, g0, a2); a3 = TV.Fma(x3, g0, a3);
            g1 = TV.Broadcast(w1[j]);
            b0 = TV.Fma(x0, g1, b0); b1 = TV.Fma(x1, g1, b1); b2 = TV.Fma(x2, g1, b2); b3 = TV.Fma(x3, g1, b3);
            g2 = TV.Broadcast(w2[j]);
            c0 = TV.Fma(x0, g2, c0); c1 = TV.Fma(x1, g2, c1); c2 = TV.Fma(x2, g2, c2); c3 = TV.Fma(x3, g2, c3);
            g3 = TV.Broadcast(w3[j]);
            e0 = TV.Fma(x0, g3, e0); e1 = TV.Fma(x1, g3, e1); e2 = TV.Fma(x2, g3, e2); e3 = TV.Fma(x3, g3, e3);
        }
        TV.Store(z0, a0); TV.Store(z0 + v, a1); TV.Store(z0 + 2 * v, a2); TV.Store(z0 + 3 * v, a3);
        TV.Store(z1, b0); TV.Store(z1 + v, b1); TV.Store(z1 + 2 * v, b2); TV.Store(z1 + 3 * v, b3);
        TV.Store(z2, c0); TV.Store(z2 + v, c1); TV.Store(z2 + 2 * v, c2); TV.Store(z2 + 3 * v, c3);
        TV.Store(z3, e0); TV.Store(z3 + v, e1); TV.Store(z3 + 2 * v, e2); TV.Store(z3 + 3 * v, e3);
        KeepLive(x0, x1, x2, x3, g0, g1, g2, g3);
    }

    /// <summary>
    /// Zᵀ of 2 classes × 4 vectors of rows held in 8 registers: <see cref="Broadcast4x4"/> for CPUs with 16 vector
    /// registers, where its 16 sums spill (so did 12: the JIT keeps the 4 vectors of Xᵀ and a broadcast beside them).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Broadcast2x4<TV>(float* xt, float* w, int d, int j0, int j1, float* zt, float* ahead0, float* ahead1)
        where TV : struct, IFloats<TV>
    {
        const int t = HostStep.TileRows;
        int v = TV.Count;
        float* w0 = w, w1 = w + d;
        float* z0 = zt, z1 = zt + t;
        TV a0 = TV.Load(z0), a1 = TV.Load(z0 + v), a2 = TV.Load(z0 + 2 * v), a3 = TV.Load(z0 + 3 * v);
        TV b0 = TV.Load(z1), b1 = TV.Load(z1 + v), b2 = TV.Load(z1 + 2 * v), b3 = TV.Load(z1 + 3 * v);
        TV x0 = default, x1 = default, x2 = default, x3 = default, g0 = default, g1 = default;
        for (int j = j0; j < j1; j++)
        {
            int line = Math.Min((j - j0) * Ahead.LineFloats, d - 1);
            Ahead.Fetch(ahead0 + line);
            Ahead.Fetch(ahead1 + line);
            float* x = xt + (long)j * t;
            x0 = TV.Load(x); x1 = TV.Load(x + v); x2 = TV.Load(x + 2 * v); x3 = TV.Load(x + 3 * v);
            g0 = TV.Broadcast(w0[j]);
            a0 = TV.Fma(x0, g0, a0); a1 = TV.Fma(x1, g0, a1); a2 = TV.Fma(x2, g0, a2); a3 = TV.Fma(x3, g0, a3);
            g1 = TV.Broadcast(w1[j]);
            b0 = TV.Fma(x0, g1, b0); b1 = TV.Fma(x1, g1, b1); b2 = TV.Fma(x2, g1, b2); b3 = TV.Fma(x3, g1, b3);
        }
        TV.Store(z0, a0); TV.Store(z0 + v, a1); TV.Store(z0 + 2 * v, a2); TV.Store(z0 + 3 * v, a3);
        TV.Store(z1, b0); TV.Store(z1 + v, b1); TV.Store(z1 + 2 * v, b2); TV.Store(z1 + 3 * v, b3);
        KeepLive(x0, x1, x2, x3, g0, g1, g0, g1);
    }

    /// <summary>Zᵀ of 1 class × 4 vectors of rows over features j0 … j1 − 1 (the classes left after blocks of 4 or 2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Broadcast1x4<TV>(float* xt, float* w, int d, int j0, int j1, float* zt, float* ahead0, float* ahead1)
        where TV : struct, IFloats<TV>
    {
        const int t = HostStep.TileRows;
        int v = TV.Count;
        TV a0 = TV.Load(zt), a1 = TV.Load(zt + v), a2 = TV.Load(zt + 2 * v), a3 = TV.Load(zt + 3 * v);
        for (int j = j0; j < j1; j++)
        {
            int line = Math.Min((j - j0) * Ahead.LineFloats, d - 1);
            Ahead.Fetch(ahead0 + line);
            Ahead.Fetch(ahead1 + line);
            float* x = xt + (long)j * t;
            TV g = TV.Broadcast(w[j]);
            a0 = TV.Fma(TV.Load(x), g, a0); a1 = TV.Fma(TV.Load(x + v), g, a1);
            a2 = TV.Fma(TV.Load(x + 2 * v), g, a2); a3 = TV.Fma(TV.Load(x + 3 * v), g, a3);
        }
        TV.Store(zt, a0); TV.Store(zt + v, a1); TV.Store(zt + 2 * v, a2); TV.Store(zt + 3 * v, a3);
    }

    /// <summary>The logits at one vector width (public for the tests, which check every width on any CPU).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no tier-0 code
    public static void Logits<TV>(nint* rows, int count, float* w, float* b, int d, int k, float* z, Ahead ahead = default)
        where TV : struct, IFloats<TV>
    {
        int v = TV.Count;
        bool masked = d % v != 0 && d >= v && k <= MaskedTailClasses;
        float* tails = stackalloc float[masked ? k * v : 0];
        if (masked)
            MaskedTails(w, d, k, v, tails);
        int r = 0;
        // The next tile is read ahead block by block: while rows r … r + 3 compute, the next tile's rows r … r + 3,
        // a share of them in each kernel call of the block.
        for (; r + 4 <= count; r += 4)
        {
            float* x0 = (float*)rows[r], x1 = (float*)rows[r + 1], x2 = (float*)rows[r + 2], x3 = (float*)rows[r + 3];
            int c = 0, call = 0, calls = (k + 2) / 3;
            for (; c + 3 <= k; c += 3)
            {
                ahead.Share(r, 4, call++, calls, d, x0, out float* a0, out float* a1);
                Dot4x3<TV>(x0, x1, x2, x3, w + (long)c * d, d, z + (long)r * k + c, k, b + c, masked ? tails + c * v : null, a0, a1);
            }
            if (c + 2 == k)
            {
                ahead.Share(r, 4, call++, calls, d, x0, out float* a0, out float* a1);
                Dot4x2<TV>(x0, x1, x2, x3, w + (long)c * d, d, z + (long)r * k + c, k, b + c, masked ? tails + c * v : null, a0, a1);
            }
            else if (c + 1 == k)
            {
                ahead.Share(r, 4, call++, calls, d, x0, out float* a0, out float* a1);
                Dot4x1<TV>(x0, x1, x2, x3, w + (long)c * d, d, z + (long)r * k + c, k, b[c], masked ? tails + c * v : null, a0, a1);
            }
        }
        for (; r < count; r++)
        {
            var x = new ReadOnlySpan<float>((float*)rows[r], d);
            for (int c = 0; c < k; c++)
                z[(long)r * k + c] = b[c] + TensorPrimitives.Dot(x, new ReadOnlySpan<float>(w + (long)c * d, d));
        }
    }

    /// <summary>dW at one vector width (public for the tests).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddGradient<TV>(nint* rows, int count, float* g, int d, int k, float* dw)
        where TV : struct, IFloats<TV>
    {
        int v = TV.Count, blocks = k / 4 * 4, whole = d / (3 * v) * (3 * v);
        // Features outside, classes inside: a slice of 3 vectors of the tile's rows stays in the first-level
        // cache while every block of 4 classes reads it.
        for (int j = 0; j < whole; j += 3 * v)
        {
            for (int q = 0; q < blocks; q += 4)
                Axpy4x3<TV>(rows, count, g + q, k, dw + (long)q * d + j, d, j);
        }
        int c = 0;
        for (; c < blocks; c += 4)
        {
            float* dw0 = dw + (long)c * d;
            int j = whole;
            for (; j + v <= d; j += v)
                Axpy4x1<TV>(rows, count, g + c, k, dw0 + j, d, j);
            if (j < d)
                Tail4x1<TV>(rows, count, g + c, k, dw0 + j, d, j);
        }
        for (; c + 2 <= k; c += 2)
        {
            float* dw0 = dw + (long)c * d, dw1 = dw0 + d;
            int j = 0;
            for (; j + 6 * v <= d; j += 6 * v)
                Axpy2x6<TV>(rows, count, g + c, k, dw0 + j, dw1 + j, j);
            for (; j + v <= d; j += v)
                Axpy2x1<TV>(rows, count, g + c, k, dw0 + j, dw1 + j, j);
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

    /// <summary>
    /// 4 rows × 3 classes of z: 12 vector sums over D, 4 loads of x and 3 of W per 12 multiply-adds, then each sum
    /// reduced, the tail added, b added; a line of each of the rows <paramref name="ahead0"/> and
    /// <paramref name="ahead1"/> read ahead a step. Twelve sums and the four vectors in flight fit the 16 vector
    /// registers of AVX2; blocks of 16 sums (8 rows × 2 classes, 4 × 4) spilled there (measured with AVX-512 off,
    /// 784 features, 12 classes: 55 → 93 GFLOP/s a core) and gain nothing with AVX-512's 32 (84 → 89).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4x3<TV>(float* x0, float* x1, float* x2, float* x3, float* w, int d, float* z, int k, float* b,
        float* tails, float* ahead0, float* ahead1)
        where TV : struct, IFloats<TV>
    {
        int v = TV.Count, steps = Steps(d, v, tails);
        float* w0 = w, w1 = w + d, w2 = w + 2L * d;
        TV s00 = default, s01 = default, s02 = default, s10 = default, s11 = default, s12 = default;
        TV s20 = default, s21 = default, s22 = default, s30 = default, s31 = default, s32 = default;
        for (int step = 0; step < steps; step++)
        {
            int j = Math.Min(step * v, d - v); // the masked last step reads x's last vector
            bool tail = step * v > d - v;
            Ahead.Fetch(ahead0 + j);
            Ahead.Fetch(ahead1 + j);
            TV c0 = TV.Load(tail ? tails : w0 + j), c1 = TV.Load(tail ? tails + v : w1 + j), c2 = TV.Load(tail ? tails + 2 * v : w2 + j);
            TV a = TV.Load(x0 + j);
            s00 = TV.Fma(a, c0, s00); s01 = TV.Fma(a, c1, s01); s02 = TV.Fma(a, c2, s02);
            a = TV.Load(x1 + j);
            s10 = TV.Fma(a, c0, s10); s11 = TV.Fma(a, c1, s11); s12 = TV.Fma(a, c2, s12);
            a = TV.Load(x2 + j);
            s20 = TV.Fma(a, c0, s20); s21 = TV.Fma(a, c1, s21); s22 = TV.Fma(a, c2, s22);
            a = TV.Load(x3 + j);
            s30 = TV.Fma(a, c0, s30); s31 = TV.Fma(a, c1, s31); s32 = TV.Fma(a, c2, s32);
        }
        int summed = Summed(d, v, tails);
        Finish(z, b[0], TV.Sum(s00), x0, w0, summed, d);
        Finish(z + 1, b[1], TV.Sum(s01), x0, w1, summed, d);
        Finish(z + 2, b[2], TV.Sum(s02), x0, w2, summed, d);
        Finish(z + k, b[0], TV.Sum(s10), x1, w0, summed, d);
        Finish(z + k + 1, b[1], TV.Sum(s11), x1, w1, summed, d);
        Finish(z + k + 2, b[2], TV.Sum(s12), x1, w2, summed, d);
        Finish(z + 2L * k, b[0], TV.Sum(s20), x2, w0, summed, d);
        Finish(z + 2L * k + 1, b[1], TV.Sum(s21), x2, w1, summed, d);
        Finish(z + 2L * k + 2, b[2], TV.Sum(s22), x2, w2, summed, d);
        Finish(z + 3L * k, b[0], TV.Sum(s30), x3, w0, summed, d);
        Finish(z + 3L * k + 1, b[1], TV.Sum(s31), x3, w1, summed, d);
        Finish(z + 3L * k + 2, b[2], TV.Sum(s32), x3, w2, summed, d);
    }

    /// <summary>4 rows × 2 classes of z (two classes left after blocks of 3, or K = 2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4x2<TV>(float* x0, float* x1, float* x2, float* x3, float* w, int d, float* z, int k, float* b,
        float* tails, float* ahead0, float* ahead1)
        where TV : struct, IFloats<TV>
    {
        int v = TV.Count, steps = Steps(d, v, tails);
        float* w0 = w, w1 = w + d;
        TV s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default, s30 = default, s31 = default;
        for (int step = 0; step < steps; step++)
        {
            int j = Math.Min(step * v, d - v);
            bool tail = step * v > d - v;
            Ahead.Fetch(ahead0 + j);
            Ahead.Fetch(ahead1 + j);
            TV c0 = TV.Load(tail ? tails : w0 + j), c1 = TV.Load(tail ? tails + v : w1 + j);
            TV a = TV.Load(x0 + j);
            s00 = TV.Fma(a, c0, s00); s01 = TV.Fma(a, c1, s01);
            a = TV.Load(x1 + j);
            s10 = TV.Fma(a, c0, s10); s11 = TV.Fma(a, c1, s11);
            a = TV.Load(x2 + j);
            s20 = TV.Fma(a, c0, s20); s21 = TV.Fma(a, c1, s21);
            a = TV.Load(x3 + j);
            s30 = TV.Fma(a, c0, s30); s31 = TV.Fma(a, c1, s31);
        }
        int summed = Summed(d, v, tails);
        Finish(z, b[0], TV.Sum(s00), x0, w0, summed, d);
        Finish(z + 1, b[1], TV.Sum(s01), x0, w1, summed, d);
        Finish(z + k, b[0], TV.Sum(s10), x1, w0, summed, d);
        Finish(z + k + 1, b[1], TV.Sum(s11), x1, w1, summed, d);
        Finish(z + 2L * k, b[0], TV.Sum(s20), x2, w0, summed, d);
        Finish(z + 2L * k + 1, b[1], TV.Sum(s21), x2, w1, summed, d);
        Finish(z + 3L * k, b[0], TV.Sum(s30), x3, w0, summed, d);
        Finish(z + 3L * k + 1, b[1], TV.Sum(s31), x3, w1, summed, d);
    }

    /// <summary>4 rows × 1 class of z.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4x1<TV>(float* x0, float* x1, float* x2, float* x3, float* w, int d, float* z, int k, float b,
        float* tails, float* ahead0, float* ahead1)
        where TV : struct, IFloats<TV>
    {
        int v = TV.Count, steps = Steps(d, v, tails);
        TV s0 = default, s1 = default, s2 = default, s3 = default;
        for (int step = 0; step < steps; step++)
        {
            int j = Math.Min(step * v, d - v);
            Ahead.Fetch(ahead0 + j);
            Ahead.Fetch(ahead1 + j);
            TV c = TV.Load(step * v > d - v ? tails : w + j);
            s0 = TV.Fma(TV.Load(x0 + j), c, s0);
            s1 = TV.Fma(TV.Load(x1 + j), c, s1);
            s2 = TV.Fma(TV.Load(x2 + j), c, s2);
            s3 = TV.Fma(TV.Load(x3 + j), c, s3);
        }
        int summed = Summed(d, v, tails);
        Finish(z, b, TV.Sum(s0), x0, w, summed, d);
        Finish(z + k, b, TV.Sum(s1), x1, w, summed, d);
        Finish(z + 2L * k, b, TV.Sum(s2), x2, w, summed, d);
        Finish(z + 3L * k, b, TV.Sum(s3), x3, w, summed, d);
    }

    /// <summary>
    /// Classes up to which <see cref="Logits{TV}"/> sums the last D mod v columns as one more vector step instead of
    /// one scalar multiply-add per row, class and column (their masked W on the stack: K·v floats).
    /// </summary>
    public const int MaskedTailClasses = 64;

    /// <summary>
    /// tails[c] = W[c, D − v … D) with its first v − D mod v lanes zero: the columns the full vector steps summed
    /// already, so that the last vector of a row of x can be read whole (measured on satimage, D = 36: a row's 4 tail
    /// columns, scalar, cost as much as its 32 others).
    /// </summary>
    private static void MaskedTails(float* w, int d, int k, int v, float* tails)
    {
        int summed = v - d % v;
        for (int c = 0; c < k; c++)
        {
            for (int lane = 0; lane < v; lane++)
                tails[c * v + lane] = lane < summed ? 0f : w[(long)c * d + d - v + lane];
        }
    }

    /// <summary>Vector steps over D: the full ones, and the masked last one where there are <paramref name="tails"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Steps(int d, int v, float* tails) => d / v + (tails is null ? 0 : 1);

    /// <summary>The columns the vector steps summed: the scalar tail starts there.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Summed(int d, int v, float* tails) => tails is null ? d / v * v : d;

    /// <summary>*z = b + (vector part + the scalar tail j … D − 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(float* z, float b, float sum, float* x, float* w, int j, int d)
    {
        for (; j < d; j++)
            sum += x[j] * w[j];
        *z = b + sum;
    }

    /// <summary>
    /// dW[c .. c + 4, j .. D) += Σ_r g[r, c …]·x_r[j .. D) for the last D − j &lt; one vector of columns, 4 multiply-adds
    /// a row: each row's last vector x_r[D − v … D) read whole, the columns summed before masked to zero (a row
    /// shorter than a vector: copied into a zero-padded one). Measured on satimage, D = 36: the four tail columns one
    /// at a time took 11 % of a pass, twice the 32 columns before them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tail4x1<TV>(nint* rows, int count, float* g, int k, float* dw, int d, int j)
        where TV : struct, IFloats<TV>
    {
        int v = TV.Count, tail = d - j, first = d >= v ? v - tail : 0; // the lane of column j
        float* x = stackalloc float[v]; // a short row's copy
        float* a = stackalloc float[4 * v]; // the mask, then the 4 classes' sums
        for (int lane = 0; lane < v; lane++)
            a[lane] = lane >= first && lane < first + tail ? 1f : 0f;
        TV mask = TV.Load(a), a0 = default, a1 = default, a2 = default, a3 = default;
        for (int r = 0; r < count; r++)
        {
            TV xr;
            if (d >= v)
            {
                xr = TV.Fma(TV.Load((float*)rows[r] + d - v), mask, default);
            }
            else
            {
                new ReadOnlySpan<float>((float*)rows[r], d).CopyTo(new Span<float>(x, d));
                xr = TV.Fma(TV.Load(x), mask, default); // lanes from D on: zero (stackalloc clears), masked too
            }
            float* gr = g + (long)r * k;
            a0 = TV.Fma(xr, TV.Broadcast(gr[0]), a0); a1 = TV.Fma(xr, TV.Broadcast(gr[1]), a1);
            a2 = TV.Fma(xr, TV.Broadcast(gr[2]), a2); a3 = TV.Fma(xr, TV.Broadcast(gr[3]), a3);
        }
        TV.Store(a, a0); TV.Store(a + v, a1); TV.Store(a + 2 * v, a2); TV.Store(a + 3 * v, a3);
        for (int q = 0; q < 4; q++)
        {
            for (int t = 0; t < tail; t++)
                dw[(long)q * d + t] += a[q * v + first + t];
        }
    }

    /// <summary>
    /// 4 classes × 3 vectors of dW held in 12 registers across the tile's rows: 3 loads of x and 4 broadcasts of g
    /// per 12 multiply-adds, so X is read from cache once per 4 classes. Twelve sums, three vectors of x and a
    /// broadcast fit AVX2's 16 vector registers; 4 × 4 blocks spilled their sums there, each multiply-add a load
    /// and a store (measured with AVX-512 off, 784 features: 61 → 101 GFLOP/s a core; with AVX-512, 109 → 113).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy4x3<TV>(nint* rows, int count, float* g, int k, float* dw, int d, int j)
        where TV : struct, IFloats<TV>
    {
        int v = TV.Count;
        float* dw0 = dw, dw1 = dw + d, dw2 = dw + 2L * d, dw3 = dw + 3L * d;
        TV a0 = TV.Load(dw0), a1 = TV.Load(dw0 + v), a2 = TV.Load(dw0 + 2 * v);
        TV b0 = TV.Load(dw1), b1 = TV.Load(dw1 + v), b2 = TV.Load(dw1 + 2 * v);
        TV c0 = TV.Load(dw2), c1 = TV.Load(dw2 + v), c2 = TV.Load(dw2 + 2 * v);
        TV e0 = TV.Load(dw3), e1 = TV.Load(dw3 + v), e2 = TV.Load(dw3 + 2 * v);
        for (int r = 0; r < count; r++)
        {
            float* x = (float*)rows[r] + j;
            float* gr = g + (long)r * k;
            TV x0 = TV.Load(x), x1 = TV.Load(x + v), x2 = TV.Load(x + 2 * v);
            TV gc = TV.Broadcast(gr[0]);
            a0 = TV.Fma(x0, gc, a0); a1 = TV.Fma(x1, gc, a1); a2 = TV.Fma(x2, gc, a2);
            gc = TV.Broadcast(gr[1]);
            b0 = TV.Fma(x0, gc, b0); b1 = TV.Fma(x1, gc, b1); b2 = TV.Fma(x2, gc, b2);
            gc = TV.Broadcast(gr[2]);
            c0 = TV.Fma(x0, gc, c0); c1 = TV.Fma(x1, gc, c1); c2 = TV.Fma(x2, gc, c2);
            gc = TV.Broadcast(gr[3]);
            e0 = TV.Fma(x0, gc, e0); e1 = TV.Fma(x1, gc, e1); e2 = TV.Fma(x2, gc, e2);
        }
        TV.Store(dw0, a0); TV.Store(dw0 + v, a1); TV.Store(dw0 + 2 * v, a2);
        TV.Store(dw1, b0); TV.Store(dw1 + v, b1); TV.Store(dw1 + 2 * v, b2);
        TV.Store(dw2, c0); TV.Store(dw2 + v, c1); TV.Store(dw2 + 2 * v, c2);
        TV.Store(dw3, e0); TV.Store(dw3 + v, e1); TV.Store(dw3 + 2 * v, e2);
    }

    /// <summary>
    /// Does nothing, but keeps its arguments live to the end of the loop before it: the JIT then adds into the
    /// running sums in place (vfmadd231ps) instead of into a dying operand's register plus a move.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void KeepLive<TV>(TV x0, TV x1, TV x2, TV x3, TV g0, TV g1, TV g2, TV g3) where TV : struct { }

    /// <summary>4 classes × 1 vector of dW across the tile's rows (the features left after whole 4-vector blocks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy4x1<TV>(nint* rows, int count, float* g, int k, float* dw, int d, int j)
        where TV : struct, IFloats<TV>
    {
        float* dw0 = dw, dw1 = dw + d, dw2 = dw + 2L * d, dw3 = dw + 3L * d;
        TV a = TV.Load(dw0), b = TV.Load(dw1), c = TV.Load(dw2), e = TV.Load(dw3);
        for (int r = 0; r < count; r++)
        {
            TV x = TV.Load((float*)rows[r] + j);
            float* gr = g + (long)r * k;
            a = TV.Fma(x, TV.Broadcast(gr[0]), a);
            b = TV.Fma(x, TV.Broadcast(gr[1]), b);
            c = TV.Fma(x, TV.Broadcast(gr[2]), c);
            e = TV.Fma(x, TV.Broadcast(gr[3]), e);
        }
        TV.Store(dw0, a);
        TV.Store(dw1, b);
        TV.Store(dw2, c);
        TV.Store(dw3, e);
    }

    /// <summary>2 classes × 6 vectors of dW held in 12 registers across the tile's rows (AVX2's 16 registers: see <see cref="Axpy4x3"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy2x6<TV>(nint* rows, int count, float* g, int k, float* dw0, float* dw1, int j)
        where TV : struct, IFloats<TV>
    {
        int v = TV.Count;
        TV a0 = TV.Load(dw0), a1 = TV.Load(dw0 + v), a2 = TV.Load(dw0 + 2 * v), a3 = TV.Load(dw0 + 3 * v);
        TV a4 = TV.Load(dw0 + 4 * v), a5 = TV.Load(dw0 + 5 * v);
        TV b0 = TV.Load(dw1), b1 = TV.Load(dw1 + v), b2 = TV.Load(dw1 + 2 * v), b3 = TV.Load(dw1 + 3 * v);
        TV b4 = TV.Load(dw1 + 4 * v), b5 = TV.Load(dw1 + 5 * v);
        for (int r = 0; r < count; r++)
        {
            float* x = (float*)rows[r] + j;
            TV g0 = TV.Broadcast(g[(long)r * k]), g1 = TV.Broadcast(g[(long)r * k + 1]);
            TV xv = TV.Load(x);
            a0 = TV.Fma(xv, g0, a0); b0 = TV.Fma(xv, g1, b0);
            xv = TV.Load(x + v);
            a1 = TV.Fma(xv, g0, a1); b1 = TV.Fma(xv, g1, b1);
            xv = TV.Load(x + 2 * v);
            a2 = TV.Fma(xv, g0, a2); b2 = TV.Fma(xv, g1, b2);
            xv = TV.Load(x + 3 * v);
            a3 = TV.Fma(xv, g0, a3); b3 = TV.Fma(xv, g1, b3);
            xv = TV.Load(x + 4 * v);
            a4 = TV.Fma(xv, g0, a4); b4 = TV.Fma(xv, g1, b4);
            xv = TV.Load(x + 5 * v);
            a5 = TV.Fma(xv, g0, a5); b5 = TV.Fma(xv, g1, b5);
        }
        TV.Store(dw0, a0); TV.Store(dw0 + v, a1); TV.Store(dw0 + 2 * v, a2); TV.Store(dw0 + 3 * v, a3);
        TV.Store(dw0 + 4 * v, a4); TV.Store(dw0 + 5 * v, a5);
        TV.Store(dw1, b0); TV.Store(dw1 + v, b1); TV.Store(dw1 + 2 * v, b2); TV.Store(dw1 + 3 * v, b3);
        TV.Store(dw1 + 4 * v, b4); TV.Store(dw1 + 5 * v, b5);
    }

    /// <summary>2 classes × 1 vector of dW across the tile's rows (the features left after whole 8-vector blocks).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Axpy2x1<TV>(nint* rows, int count, float* g, int k, float* dw0, float* dw1, int j)
        where TV : struct, IFloats<TV>
    {
        TV a = TV.Load(dw0), b = TV.Load(dw1);
        for (int r = 0; r < count; r++)
        {
            TV x = TV.Load((float*)rows[r] + j);
            a = TV.Fma(x, TV.Broadcast(g[(long)r * k]), a);
            b = TV.Fma(x, TV.Broadcast(g[(long)r * k + 1]), b);
        }
        TV.Store(dw0, a);
        TV.Store(dw1, b);
    }
}

/// <summary>
/// The next tile's rows, read ahead into the cache while this tile's logits compute. A worker's tiles come from X in
/// memory; the logits are the first to read a tile, and without this they wait on it: the processor's own prefetcher
/// follows a few streams, and a block of rows is as many streams, read at the pace of the multiply-adds for its first
/// classes, then not at all for the others. Instead each kernel call of the logits takes a share of the next tile's
/// rows (<see cref="Share"/>), and its loop fetches a line of one or two of them a step, so that memory is read at the
/// pace of the whole tile's arithmetic (measured, one core, MNIST's 60000 × 784 × 10 from memory, with the blocks of
/// 8 rows of the time: the logits 19.5 → 13.7 ms, as fast as from the third-level cache; logits and gradient 27.4 →
/// 21.4 ms; the whole step on two cores, bench/RESULTS.md). Only tiles of at most
/// <see cref="MaxTileBytes"/> are read ahead: two of them must fit a core's second-level cache beside W; and rows
/// of at least <see cref="MinRowFloats"/>: shorter rows are a few lines each, which the processor's prefetcher follows
/// (letter's 16 features a row: 2.5 ms a pass with and without).
/// </summary>
public readonly unsafe struct Ahead
{
    /// <summary>Floats a cache line: a step fetches a line, however many of its floats the step reads.</summary>
    public const int LineFloats = 16;

    /// <summary>The largest tile (rows × D × 4 bytes) read ahead.</summary>
    public const long MaxTileBytes = 256 * 1024;

    /// <summary>The shortest row (D) whose tile is read ahead.</summary>
    public const int MinRowFloats = 64;

    private readonly nint* rows; // the next tile's rows; null: nothing to read ahead
    private readonly int count;

    /// <param name="rows">The next tile's rows (addresses in X), <paramref name="count"/> of them; none where the tile is
    /// larger than <see cref="MaxTileBytes"/>.</param>
    public Ahead(nint* rows, int count, int d)
    {
        this.rows = Worth(d) ? rows : null;
        this.count = this.rows is null ? 0 : count;
    }

    /// <summary>Whether tiles of rows of <paramref name="d"/> floats are read ahead (on a CPU with a prefetch instruction).</summary>
    public static bool Worth(int d) =>
        Sse.IsSupported && d >= MinRowFloats && (long)HostStep.TileRows * d * sizeof(float) <= MaxTileBytes;

    /// <summary>
    /// Call <paramref name="call"/> of <paramref name="calls"/> that compute rows first … first + n − 1 of this tile:
    /// its share of the same rows of the next tile. The first two, <paramref name="a"/> and <paramref name="b"/>, are
    /// to be fetched a line a step by the call's loop; any more are fetched now, whole. Where it has fewer,
    /// <paramref name="own"/> (a row in cache) stands in.
    /// </summary>
    public void Share(int first, int n, int call, int calls, int d, float* own, out float* a, out float* b)
    {
        if (rows is null) // nothing read ahead (the common small-row case: no arithmetic a call)
        {
            a = b = own;
            return;
        }
        (int from, int to) = Rows(first, n, call, calls, count);
        for (int r = from + 2; r < to; r++)
        {
            for (int j = 0; j < d; j += LineFloats)
                Fetch((float*)rows[r] + j);
        }
        a = from < to ? (float*)rows[from] : own;
        b = from + 1 < to ? (float*)rows[from + 1] : own;
    }

    /// <summary>
    /// The next tile's rows [from, to) that call <paramref name="call"/> of <paramref name="calls"/> over rows
    /// first … first + n − 1 takes, of the <paramref name="count"/> it has: the calls split the n rows in order.
    /// </summary>
    public static (int From, int To) Rows(int first, int n, int call, int calls, int count) =>
        (Math.Min(count, first + call * n / calls), Math.Min(count, first + (call + 1) * n / calls));

    /// <summary>Fetches the line at p into the second-level cache (where the CPU has a prefetch instruction; else nothing).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Fetch(float* p)
    {
        if (Sse.IsSupported)
            Sse.Prefetch1(p);
    }
}

/// <summary>A vector of floats as the tile kernels use it; implemented once per width, so the kernels are written once.</summary>
public interface IFloats<TSelf> where TSelf : struct, IFloats<TSelf>
{
    static abstract int Count { get; }
    static abstract unsafe TSelf Load(float* p);
    static abstract unsafe void Store(float* p, TSelf v);
    static abstract TSelf Broadcast(float value);
    /// <summary>a·b + c, fused.</summary>
    static abstract TSelf Fma(TSelf a, TSelf b, TSelf c);
    static abstract TSelf Add(TSelf a, TSelf b);
    static abstract float Sum(TSelf v);
}

/// <summary>16 floats (AVX-512).</summary>
public readonly struct Floats512 : IFloats<Floats512>
{
    private readonly Vector512<float> v;
    private Floats512(Vector512<float> v) => this.v = v;
    public static int Count => Vector512<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Floats512 Load(float* p) => new(Vector512.Load(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(float* p, Floats512 x) => x.v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Floats512 Broadcast(float value) => new(Vector512.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Floats512 Fma(Floats512 a, Floats512 b, Floats512 c) => new(Vector512.FusedMultiplyAdd(a.v, b.v, c.v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Floats512 Add(Floats512 a, Floats512 b) => new(a.v + b.v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Floats512 x) => Vector512.Sum(x.v);
}

/// <summary><see cref="Vector{T}"/>'s width: 8 floats on AVX2 (and AVX-512 by default), 4 on NEON.</summary>
public readonly struct FloatsT : IFloats<FloatsT>
{
    private readonly Vector<float> v;
    private FloatsT(Vector<float> v) => this.v = v;
    public static int Count => Vector<float>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe FloatsT Load(float* p) => new(Unsafe.ReadUnaligned<Vector<float>>(p));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(float* p, FloatsT x) => Unsafe.WriteUnaligned(p, x.v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FloatsT Broadcast(float value) => new(new Vector<float>(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FloatsT Fma(FloatsT a, FloatsT b, FloatsT c) => new(Vector.FusedMultiplyAdd(a.v, b.v, c.v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static FloatsT Add(FloatsT a, FloatsT b) => new(a.v + b.v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(FloatsT x) => Vector.Sum(x.v);
}
