using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SoftmaxGpu.Kernels.Host;

/// <summary>
/// Rows held as their difference from one value per column: X = S + 1·sᵀ, with S sparse (CSR: the entries where
/// x[r, j] ≠ s[j]) and s[j] the column's most common value — 0 for sparse data, the image of a raw 0 for standardized
/// sparse-looking data (MNIST's pixels standardized: 19% of the entries differ). A linear layer over such rows costs
/// their entries, not N·D multiply-adds:
/// <code>
///   Z  = S·Wᵀ + 1·b′ᵀ,  b′ = b + W·s
///   dW = Gᵀ·S + db·sᵀ,  db = Σ_r G[r]   (since Gᵀ·X = Gᵀ·S + (Gᵀ·1)·sᵀ)
/// </code>
/// </summary>
/// <param name="rowStart">[rows + 1]: row r's entries are RowStart[r] … RowStart[r + 1] − 1.</param>
/// <param name="columns">[entries] each entry's column, increasing within a row.</param>
/// <param name="values">[entries] x[r, j] − s[j].</param>
/// <param name="shift">s: [D].</param>
/// <param name="blocks">The same entries by blocks of rows, column by column, for dW.</param>
public readonly unsafe struct ShiftedRows(long* rowStart, int* columns, float* values, float* shift, ShiftedBlocks blocks)
{
    public readonly long* RowStart = rowStart;
    public readonly int* Columns = columns;
    public readonly float* Values = values;
    public readonly float* Shift = shift;
    public readonly ShiftedBlocks Blocks = blocks;

    /// <summary>Whether the batch has these rows (else its X is read dense).</summary>
    public bool Present => RowStart != null;
}

/// <summary>
/// The entries of <see cref="ShiftedRows"/> by blocks of <see cref="BlockRows"/> rows (rows 64b … 64b + 63), column by
/// column within a block: block b's columns with entries are items BlockStart[b] … BlockStart[b + 1] − 1, item i column
/// Columns[i] with entries EntryStart[i] … EntryStart[i + 1] − 1, each its row within the block (Rows) and its value.
/// </summary>
public readonly unsafe struct ShiftedBlocks(long* blockStart, int* columns, long* entryStart, byte* rows, float* values)
{
    /// <summary>Rows of a block: a tile's rows lie in one (<see cref="HostStep"/> cuts its tiles at their ends).</summary>
    public const int BlockRows = HostStep.TileRows;

    public readonly long* BlockStart = blockStart;
    public readonly int* Columns = columns;
    public readonly long* EntryStart = entryStart;
    public readonly byte* Rows = rows;
    public readonly float* Values = values;
}

/// <summary>
/// The host engine's tile products over <see cref="ShiftedRows"/>, for G·K logits a row (the stacked fold models of a
/// cross-validation, or one model), with Wᵀ and dWᵀ laid out feature by feature: row j holds feature j's G·K weights
/// at <see cref="StrideOf"/> floats (whole vectors, padding zero). Z goes row by row over the CSR entries, each entry a
/// few vector multiply-adds on its row of Wᵀ (D·stride floats, in the second-level cache: MNIST's 784 × 48, 150 KB);
/// dW goes column by column over a block's entries (<see cref="ShiftedBlocks"/>), each row of dWᵀ summed in registers
/// from the tile's rows of G. Sums run in a fixed order, so a pass is deterministic. Measured on one core (AVX-512,
/// 40 logits, MNIST's density): 2.0 ns an entry for Z, 2.0 for dW; Z column by column (each entry updating its row of
/// the tile's Z) took 2.4.
/// </summary>
public static unsafe class ShiftedTile
{
    /// <summary>Floats from one row of Wᵀ (or dWᵀ) to the next for <paramref name="kk"/> logits: whole vectors.</summary>
    public static int StrideOf(int kk) => (kk + HostTile.Width - 1) / HostTile.Width * HostTile.Width;

    /// <summary>
    /// A tile's θ = [W (kk·D) | b (kk)] laid out for its entries: wt[j, c] = W[c, j] ([D, stride], padding 0) and
    /// b′[c] = b[c] + Σ_j W[c, j]·s[j] (summed in float64; [stride], padding 0).
    /// </summary>
    public static void Prepare(float* theta, float* shift, int d, int kk, int stride, float* wt, float* bias)
    {
        new Span<float>(wt, checked(d * stride)).Clear();
        new Span<float>(bias, stride).Clear();
        for (int c = 0; c < kk; c++)
        {
            float* w = theta + (long)c * d;
            double shifted = theta[(long)kk * d + c];
            for (int j = 0; j < d; j++)
            {
                wt[(long)j * stride + c] = w[j];
                shifted += (double)w[j] * shift[j];
            }
            bias[c] = (float)shifted;
        }
    }

    /// <summary>
    /// z[i, c] = b′[c] + Σ_e v_e·wt[j_e, c] for the tile's rows, i = 0 … count − 1 (row first + i of <paramref name="x"/>);
    /// z is [count, kk].
    /// </summary>
    /// <param name="sums">Scratch: [count, stride] floats from a 64-byte boundary.</param>
    public static void Logits(ShiftedRows x, long first, int count, float* wt, float* bias, int kk, int stride, float* sums, float* z)
    {
        if (Vector512.IsHardwareAccelerated)
            Logits<Floats512>(x, first, count, wt, bias, kk, stride, sums, z);
        else
            Logits<FloatsT>(x, first, count, wt, bias, kk, stride, sums, z);
    }

    /// <summary>
    /// dwt[j_e, :] += v_e·g[i, :] for every entry of the tile's rows, which are rows lo … hi − 1 of block
    /// <paramref name="block"/> (<see cref="ShiftedBlocks"/>); g is [hi − lo, kk], dwt [D, stride].
    /// </summary>
    /// <param name="padded">Scratch: [hi − lo, stride] floats from a 64-byte boundary (G's rows padded with zeros).</param>
    public static void AddGradient(ShiftedRows x, int block, int lo, int hi, float* g, int kk, int stride, float* padded, float* dwt)
    {
        for (int i = 0; i < hi - lo; i++)
        {
            float* row = padded + (long)i * stride;
            new ReadOnlySpan<float>(g + (long)i * kk, kk).CopyTo(new Span<float>(row, kk));
            new Span<float>(row + kk, stride - kk).Clear();
        }
        if (Vector512.IsHardwareAccelerated)
            AddGradientByColumn<Floats512>(x.Blocks, block, lo, hi, padded, stride, dwt);
        else
            AddGradientByColumn<FloatsT>(x.Blocks, block, lo, hi, padded, stride, dwt);
    }

    /// <summary><see cref="Logits"/> at one vector width (public for the tests).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Logits<TV>(ShiftedRows x, long first, int count, float* wt, float* bias, int kk, int stride, float* sums,
        float* z)
        where TV : struct, IFloats<TV>
    {
        int v = TV.Count;
        for (int i = 0; i < count; i++)
        {
            long from = x.RowStart[first + i], to = x.RowStart[first + i + 1];
            float* row = sums + (long)i * stride;
            new ReadOnlySpan<float>(bias, stride).CopyTo(new Span<float>(row, stride));
            int t = 0;
            for (; t + 3 * v <= stride; t += 3 * v)
                RowSums3<TV>(x.Columns, x.Values, from, to, wt + t, stride, row + t);
            for (; t < stride; t += v)
                RowSums1<TV>(x.Columns, x.Values, from, to, wt + t, stride, row + t);
            new ReadOnlySpan<float>(row, kk).CopyTo(new Span<float>(z + (long)i * kk, kk));
        }
    }

    /// <summary>
    /// dwt[j, :] += Σ_e v_e·g[row_e − lo, :] over a block's entries by column (<see cref="ShiftedBlocks"/>), for those of
    /// its rows in [lo, hi) (public for the tests): each row of dWᵀ is read and written once a tile, its sum built in
    /// registers from G's rows, which stay in the first-level cache. Row by row instead, each entry read and wrote its row
    /// of dWᵀ from the second-level cache: 3.0 against 2.0 ns an entry at 40 logits (one core, AVX-512; 4.0 against 3.7
    /// with AVX2). Entries of rows outside the tile multiply 0 by a row of G inside it.
    /// </summary>
    /// <param name="padded">G of the tile's rows lo … hi − 1: [hi − lo, stride] from a 64-byte boundary, padding zero.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddGradientByColumn<TV>(ShiftedBlocks x, int block, int lo, int hi, float* padded, int stride, float* dwt)
        where TV : struct, IFloats<TV>
    {
        int v = TV.Count;
        for (long item = x.BlockStart[block]; item < x.BlockStart[block + 1]; item++)
        {
            long first = x.EntryStart[item], last = x.EntryStart[item + 1];
            float* into = dwt + (long)x.Columns[item] * stride;
            int t = 0;
            for (; t + 3 * v <= stride; t += 3 * v)
                ColumnSums3<TV>(x.Rows, x.Values, first, last, lo, hi, padded + t, stride, into + t);
            for (; t < stride; t += v)
                ColumnSums1<TV>(x.Rows, x.Values, first, last, lo, hi, padded + t, stride, into + t);
        }
    }

    /// <summary>Three vectors of a column's Σ v·G[row] (two running sums each), added into its row of dWᵀ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnSums3<TV>(byte* rows, float* values, long first, long last, int lo, int hi, float* g, int stride,
        float* into)
        where TV : struct, IFloats<TV>
    {
        int v = TV.Count;
        TV zero = TV.Broadcast(0);
        TV a0 = zero, a1 = zero, a2 = zero, b0 = zero, b1 = zero, b2 = zero;
        uint span = (uint)(hi - lo);
        long e = first;
        for (; e + 2 <= last; e += 2)
        {
            uint r = (uint)(rows[e] - lo), q = (uint)(rows[e + 1] - lo);
            TV s = TV.Broadcast(r < span ? values[e] : 0), u = TV.Broadcast(q < span ? values[e + 1] : 0);
            float* gr = g + (long)Math.Min(r, span - 1) * stride, gq = g + (long)Math.Min(q, span - 1) * stride;
            a0 = TV.Fma(TV.Load(gr), s, a0); a1 = TV.Fma(TV.Load(gr + v), s, a1); a2 = TV.Fma(TV.Load(gr + 2 * v), s, a2);
            b0 = TV.Fma(TV.Load(gq), u, b0); b1 = TV.Fma(TV.Load(gq + v), u, b1); b2 = TV.Fma(TV.Load(gq + 2 * v), u, b2);
        }
        if (e < last)
        {
            uint r = (uint)(rows[e] - lo);
            TV s = TV.Broadcast(r < span ? values[e] : 0);
            float* gr = g + (long)Math.Min(r, span - 1) * stride;
            a0 = TV.Fma(TV.Load(gr), s, a0); a1 = TV.Fma(TV.Load(gr + v), s, a1); a2 = TV.Fma(TV.Load(gr + 2 * v), s, a2);
        }
        TV.Store(into, TV.Add(TV.Load(into), TV.Add(a0, b0)));
        TV.Store(into + v, TV.Add(TV.Load(into + v), TV.Add(a1, b1)));
        TV.Store(into + 2 * v, TV.Add(TV.Load(into + 2 * v), TV.Add(a2, b2)));
    }

    /// <summary>One vector of a column's Σ v·G[row] (<see cref="ColumnSums3{TV}"/>'s vectors left over).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnSums1<TV>(byte* rows, float* values, long first, long last, int lo, int hi, float* g, int stride,
        float* into)
        where TV : struct, IFloats<TV>
    {
        TV zero = TV.Broadcast(0);
        TV a = zero, b = zero;
        uint span = (uint)(hi - lo);
        long e = first;
        for (; e + 2 <= last; e += 2)
        {
            uint r = (uint)(rows[e] - lo), q = (uint)(rows[e + 1] - lo);
            a = TV.Fma(TV.Load(g + (long)Math.Min(r, span - 1) * stride), TV.Broadcast(r < span ? values[e] : 0), a);
            b = TV.Fma(TV.Load(g + (long)Math.Min(q, span - 1) * stride), TV.Broadcast(q < span ? values[e + 1] : 0), b);
        }
        if (e < last)
        {
            uint r = (uint)(rows[e] - lo);
            a = TV.Fma(TV.Load(g + (long)Math.Min(r, span - 1) * stride), TV.Broadcast(r < span ? values[e] : 0), a);
        }
        TV.Store(into, TV.Add(TV.Load(into), TV.Add(a, b)));
    }

    /// <summary>
    /// Three vectors of one row's logits: their running value plus the row's entries' v·wt[j], the entries dealt round
    /// to four running sums (a multiply-add's latency is four times its issue interval), added at the end.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowSums3<TV>(int* columns, float* values, long first, long last, float* wt, int stride, float* sums)
        where TV : struct, IFloats<TV>
    {
        int v = TV.Count;
        TV zero = TV.Broadcast(0);
        TV a0 = TV.Load(sums), a1 = TV.Load(sums + v), a2 = TV.Load(sums + 2 * v);
        TV b0 = zero, b1 = zero, b2 = zero, c0 = zero, c1 = zero, c2 = zero, e0 = zero, e1 = zero, e2 = zero;
        long e = first;
        for (; e + 4 <= last; e += 4)
        {
            float* w = wt + (long)columns[e] * stride;
            TV s = TV.Broadcast(values[e]);
            a0 = TV.Fma(TV.Load(w), s, a0); a1 = TV.Fma(TV.Load(w + v), s, a1); a2 = TV.Fma(TV.Load(w + 2 * v), s, a2);
            w = wt + (long)columns[e + 1] * stride;
            s = TV.Broadcast(values[e + 1]);
            b0 = TV.Fma(TV.Load(w), s, b0); b1 = TV.Fma(TV.Load(w + v), s, b1); b2 = TV.Fma(TV.Load(w + 2 * v), s, b2);
            w = wt + (long)columns[e + 2] * stride;
            s = TV.Broadcast(values[e + 2]);
            c0 = TV.Fma(TV.Load(w), s, c0); c1 = TV.Fma(TV.Load(w + v), s, c1); c2 = TV.Fma(TV.Load(w + 2 * v), s, c2);
            w = wt + (long)columns[e + 3] * stride;
            s = TV.Broadcast(values[e + 3]);
            e0 = TV.Fma(TV.Load(w), s, e0); e1 = TV.Fma(TV.Load(w + v), s, e1); e2 = TV.Fma(TV.Load(w + 2 * v), s, e2);
        }
        for (; e < last; e++)
        {
            float* w = wt + (long)columns[e] * stride;
            TV s = TV.Broadcast(values[e]);
            a0 = TV.Fma(TV.Load(w), s, a0); a1 = TV.Fma(TV.Load(w + v), s, a1); a2 = TV.Fma(TV.Load(w + 2 * v), s, a2);
        }
        TV.Store(sums, TV.Add(TV.Add(a0, b0), TV.Add(c0, e0)));
        TV.Store(sums + v, TV.Add(TV.Add(a1, b1), TV.Add(c1, e1)));
        TV.Store(sums + 2 * v, TV.Add(TV.Add(a2, b2), TV.Add(c2, e2)));
    }

    /// <summary>One vector of one row's logits (<see cref="RowSums3{TV}"/>'s vectors left over).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowSums1<TV>(int* columns, float* values, long first, long last, float* wt, int stride, float* sums)
        where TV : struct, IFloats<TV>
    {
        TV zero = TV.Broadcast(0);
        TV a = TV.Load(sums), b = zero, c = zero, e4 = zero;
        long e = first;
        for (; e + 4 <= last; e += 4)
        {
            a = TV.Fma(TV.Load(wt + (long)columns[e] * stride), TV.Broadcast(values[e]), a);
            b = TV.Fma(TV.Load(wt + (long)columns[e + 1] * stride), TV.Broadcast(values[e + 1]), b);
            c = TV.Fma(TV.Load(wt + (long)columns[e + 2] * stride), TV.Broadcast(values[e + 2]), c);
            e4 = TV.Fma(TV.Load(wt + (long)columns[e + 3] * stride), TV.Broadcast(values[e + 3]), e4);
        }
        for (; e < last; e++)
            a = TV.Fma(TV.Load(wt + (long)columns[e] * stride), TV.Broadcast(values[e]), a);
        TV.Store(sums, TV.Add(TV.Add(a, b), TV.Add(c, e4)));
    }
}
