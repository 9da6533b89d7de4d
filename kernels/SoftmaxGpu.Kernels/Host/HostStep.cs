using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SoftmaxGpu.Kernels.Host;

/// <summary>
/// The gradient step and the forward pass of softmax regression in managed code on the CPU: the <c>host</c>
/// engine, for machines without a GPU. For each tile of <see cref="TileRows"/> rows, in one visit while the rows
/// are in cache: Z = X·Wᵀ + b (<see cref="HostTile.Logits"/>, or <see cref="HostTile.LogitsTransposed"/> from
/// <see cref="TransposedClasses"/> classes), per row the head (<see cref="IHead"/>: its outputs, loss and
/// G = ∂loss/∂z), then dW += Gᵀ·X (<see cref="HostTile.AddGradient"/>). The softmax head's rows run as SIMD vector
/// calls here (<see cref="SoftmaxGradient"/>: its arithmetic over vector lanes); any other head runs its own
/// struct over the row in host memory (<see cref="PointerRow"/>).
///
/// The gradient pass's two products are the seam between the rows and the rest (<see cref="ITiles"/>): dense rows
/// (<see cref="DenseTiles"/>), or, where the batch carries its rows as a sparse difference from one value per column
/// (<see cref="Batch.Shifted"/>), those entries (<see cref="ShiftedTiles"/>); the tiles, the head and the sums are the same.
///
/// Rows are split into one contiguous range per worker (one per core); each worker sums dW in float over
/// <see cref="FlushTiles"/> tiles, then adds that into its own float64 accumulator, so the rounding error does
/// not grow with the row count; db and the loss are summed in float64. The workers' sums are added in worker
/// order, so a run is deterministic: the same inputs give the same bits on a given machine.
/// </summary>
public static class HostStep
{
    /// <summary>Rows of a tile: their logits, G and dW are computed while the rows are in cache (64 × D floats).</summary>
    public const int TileRows = 64;

    /// <summary>Tiles whose dW is summed in float before it is added into the float64 accumulator (1024 rows).</summary>
    public const int FlushTiles = 16;

    /// <summary>Fewest rows worth a worker of their own (below it, starting a thread costs more than the work).</summary>
    public const int MinRowsPerWorker = 256;

    /// <summary>The rows of a batch and what to do with them.</summary>
    /// <param name="x">Base of X [*, D] in host memory.</param>
    /// <param name="order">Row indices of the batch, or null for rows 0 … rows − 1.</param>
    /// <param name="labels">Base of y [*]: class indices (ignored where targets are given).</param>
    /// <param name="targets">Base of Y [*, K] target rows (soft targets, tag sets, weighted rows), or null.</param>
    /// <param name="shifted">The same rows as a sparse difference from one value per column, which the gradient pass
    /// reads instead of X where present (<see cref="ShiftedRows"/>: its products cost the entries, not N·D).</param>
    public readonly unsafe struct Batch(float* x, int* order, int* labels, float* targets, int rows, int d, int k,
        ShiftedRows shifted = default)
    {
        public readonly float* X = x;
        public readonly int* Order = order;
        public readonly int* Labels = labels;
        public readonly float* Targets = targets;
        public readonly int Rows = rows;
        public readonly int D = d;
        public readonly int K = k;
        public readonly ShiftedRows Shifted = shifted;

        public long RowAt(int i) => Order is null ? i : Order[i];
    }

    /// <summary>
    /// Several models over the same rows in one pass (<see cref="Gradient{THead}(Batch, Stack, float*, float[], Span{float}, double[], int[])"/>),
    /// the folds of a cross-validation: model s learns from every row outside its fold <c>Held[s]</c>. The batch's rows
    /// come fold by fold (<see cref="Batch.Order"/> sorted by fold), so a tile holds one fold's rows and computes only
    /// the models that learn from them: its θ is <c>FoldTheta[f]</c> = [W (g·K·D) | b (g·K)] of those g models in
    /// stack order (every model but the one holding fold f out), a linear model of g·K classes whose logits split into
    /// g blocks of K, one head each. The gradient is laid out per model: [dW_0 … dW_{m−1} (m·K·D) | db_0 … db_{m−1} (m·K)].
    /// </summary>
    /// <param name="held">[m] the fold each model leaves out.</param>
    /// <param name="foldAt">[rows] the fold of each batch row, by its place in the batch (non-decreasing), or null: one
    /// model on every row, θ = <c>theta</c> itself (the single fit).</param>
    /// <param name="foldTheta">[folds] each fold's θ of the models that learn from it.</param>
    public readonly unsafe struct Stack(int models, int* held, int* foldAt, float** foldTheta)
    {
        public readonly int Models = models;
        public readonly int* Held = held;
        public readonly int* FoldAt = foldAt;
        public readonly float** FoldTheta = foldTheta;

        /// <summary>One model on every row: the single fit.</summary>
        public static Stack One => new(1, null, null, null);

        /// <summary>The place in the stack of the model that leaves <paramref name="fold"/> out, or m when none does.</summary>
        public int Skipped(int fold)
        {
            for (int s = 0; s < Models; s++)
            {
                if (Held[s] == fold)
                    return s;
            }
            return Models;
        }
    }

    /// <summary>
    /// grad = gradScale·∇ Σ loss over the batch, for θ = [W (K·D) | b (K)]; returns the summed loss (unscaled,
    /// float64) and the number of rows whose largest logit is the true class.
    /// </summary>
    /// <param name="theta">θ in host memory, read by every worker.</param>
    /// <typeparam name="THead">What a row's logits give (<see cref="IHead"/>).</typeparam>
    public static unsafe (double Loss, int Correct) Gradient<THead>(Batch batch, float* theta, float gradScale, Span<float> grad)
        where THead : struct, IHead
    {
        double[] loss = new double[1];
        int[] correct = new int[1];
        Gradient<THead>(batch, Stack.One, theta, [gradScale], grad, loss, correct);
        return (loss[0], correct[0]);
    }

    /// <summary>
    /// The gradients of the <see cref="Stack"/>'s m models in one pass over the rows, model s's blocks scaled by
    /// gradScales[s]; loss[s] and correct[s] its summed loss (unscaled, float64) and right rows over the rows it learns
    /// from. One model on every row (<see cref="Stack.One"/>) is the single fit's pass.
    /// </summary>
    /// <param name="theta">θ = [W (K·D) | b (K)] of the single fit (<see cref="Stack.One"/>); a stack reads its folds' θ.</param>
    public static unsafe void Gradient<THead>(Batch batch, Stack stack, float* theta, float[] gradScales, Span<float> grad,
        double[] loss, int[] correct)
        where THead : struct, IHead
    {
        int d = batch.D, k = batch.K, m = stack.Models, kd = m * k * d;
        int workers = Workers(batch.Rows);
        var accumulators = new double[workers][];
        var losses = new double[workers][];
        var hits = new int[workers][];
        bool shifted = batch.Shifted.Present;
        if (shifted && batch.Order is not null)
            throw new ArgumentException("shifted rows are read in their own order (a batch of them has no row order)", nameof(batch));
        using ShiftedThetas? prepared = shifted ? new ShiftedThetas(batch, stack, theta, ShiftedTile.StrideOf(m * k)) : null;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers },
            [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int w) =>
        {
            (int first, int last) = Range(batch.Rows, workers, w);
            double[] sum = Rent<double>(kd + m * k); // [dW | db] per model, in float64
            using ITiles tiles = prepared is null ? new DenseTiles(batch, stack, theta, last) : new ShiftedTiles(batch, prepared);
            float[] tileLogits = Rent<float>(TileRows * m * k);
            var scratch = new float[k];
            bool tileSoftmax = TileSoftmax<THead>(batch);
            float[] segments = Rent<float>(tileSoftmax ? 2 * TileRows * m : 0); // per (row, model): z_y − m and s
            float[] byClass = Rent<float>(tileSoftmax ? ByClassLength(TileRows * m, k) : 0); // a tile's Zᵀ below VectorClasses
            var outcomes = Rent<(double Loss, bool Hit)>(tileSoftmax ? TileRows * m : 0);
            var rowLosses = new double[m];
            var right = new int[m];
            fixed (float* z = tileLogits)
            {
                int done = 0; // tiles
                for (int start = first; start < last;)
                {
                    // The tile: rows of one fold, and the g models that learn from them (skipped: the one that does not).
                    int fold = stack.FoldAt is null ? -1 : stack.FoldAt[start];
                    int count = Math.Min(tiles.Rows(start), last - start);
                    while (fold >= 0 && stack.FoldAt[start + count - 1] != fold)
                        count--;
                    int skipped = fold < 0 ? m : stack.Skipped(fold), g = skipped < m ? m - 1 : m, kk = g * k;
                    tiles.Logits(start, count, fold, kk, z);
                    if (tileSoftmax)
                        TileSoftmaxGradient(new Span<float>(z, count * kk), k, g, batch, start, segments, byClass, outcomes);
                    for (int i = 0; i < count; i++)
                    {
                        long row = batch.RowAt(start + i);
                        for (int b = 0; b < g; b++)
                        {
                            // z_i's block b ← G = softmax(z) − y (or σ(z) − y), with the row's loss and hit, for model s.
                            int s = b < skipped ? b : b + 1;
                            var gradient = new Span<float>(z + (long)i * kk + b * k, k);
                            (double rowLoss, bool hit) = tileSoftmax
                                ? outcomes[i * g + b]
                                : RowGradient<THead>(gradient, scratch, batch, row);
                            rowLosses[s] += rowLoss;
                            right[s] += hit ? 1 : 0;
                            for (int c = 0; c < k; c++)
                                sum[kd + s * k + c] += gradient[c];
                        }
                    }
                    tiles.AddGradient(start, count, z, kk);
                    start += count;
                    if (++done % FlushTiles == 0 || start == last || stack.FoldAt is not null && stack.FoldAt[start] != fold)
                        tiles.Flush(kk, skipped, sum);
                }
            }
            tiles.Finish(sum);
            (accumulators[w], losses[w], hits[w]) = (sum, rowLosses, right);
            GiveBack(tileLogits, segments, byClass);
            GiveBack(outcomes);
        });

        for (int i = 0; i < kd + m * k; i++)
        {
            double g = 0;
            for (int w = 0; w < workers; w++)
                g += accumulators[w][i];
            grad[i] = (float)(g * gradScales[i < kd ? i / (k * d) : (i - kd) / k]);
        }
        foreach (double[] sum in accumulators)
            GiveBack(sum);
        for (int s = 0; s < m; s++) // in worker order
            (loss[s], correct[s]) = (losses.Sum(l => l[s]), hits.Sum(h => h[s]));
    }

    /// <summary>
    /// A tile's two products over the rows as the batch holds them, one a worker with its buffers: Z = X·Wᵀ + b before
    /// the head and dW += Gᵀ·X after it, summed in float over <see cref="FlushTiles"/> tiles and then flushed into the
    /// worker's float64 sums [dW_0 … dW_{m−1} | db_0 … db_{m−1}]. Dense rows: <see cref="DenseTiles"/>; rows as a sparse
    /// difference from one value per column: <see cref="ShiftedTiles"/>.
    /// </summary>
    private unsafe interface ITiles : IDisposable
    {
        /// <summary>The most rows of a tile from batch row <paramref name="start"/> (a fold's end may cut it shorter).</summary>
        int Rows(int start);

        /// <summary>z [count, kk] = the logits of rows start … start + count − 1 under the kk = g·K rows of W of the g models that learn from <paramref name="fold"/> (−1: the single fit).</summary>
        void Logits(int start, int count, int fold, int kk, float* z);

        /// <summary>The tile's dW of those g models += Gᵀ·X, G [count, kk] in <paramref name="z"/>.</summary>
        void AddGradient(int start, int count, float* z, int kk);

        /// <summary>Each block b's dW (K·D) into its model s's in <paramref name="sum"/> (s = b, or b + 1 from <paramref name="skipped"/> on); then the tile's dW is zero.</summary>
        void Flush(int kk, int skipped, double[] sum);

        /// <summary>Anything the sums still lack once the worker's rows are done.</summary>
        void Finish(double[] sum);
    }

    /// <summary>Dense rows: <see cref="HostTile"/>'s register-blocked products, the next tile read ahead.</summary>
    private sealed unsafe class DenseTiles : ITiles
    {
        private readonly Batch batch;
        private readonly Stack stack;
        private readonly float* theta;
        private readonly int last; // the worker's last row + 1: no tile is read ahead past it
        private readonly Pinned<float> dw, staged, transposed; // the tile's dW [g·K, D]; rows restaged; [Xᵀ | Zᵀ]
        private readonly Pinned<nint> rows, next; // the tile's rows, the next tile's rows

        public DenseTiles(Batch batch, Stack stack, float* theta, int last)
        {
            (this.batch, this.stack, this.last) = (batch, stack, last);
            this.theta = theta;
            int d = batch.D, kk = stack.Models * batch.K;
            dw = new Pinned<float>(kk * d);
            staged = new Pinned<float>(Restaged(d) ? TileRows * StagedStride(d) : 0);
            transposed = new Pinned<float>(TransposedLogits(kk) ? TileRows * (d + kk) : 0);
            (rows, next) = (new Pinned<nint>(TileRows), new Pinned<nint>(TileRows));
        }

        public int Rows(int start) => TileRows;

        public void Logits(int start, int count, int fold, int kk, float* z)
        {
            PointAtRows(batch, start, count, rows.Pointer, staged.Pointer);
            TileLogits(rows.Pointer, count, fold < 0 ? theta : stack.FoldTheta[fold], batch.D, kk, z, transposed.Pointer,
                NextTile(batch, start + count, last, next.Pointer));
        }

        public void AddGradient(int start, int count, float* z, int kk) =>
            HostTile.AddGradient(rows.Pointer, count, z, batch.D, kk, dw.Pointer);

        public void Flush(int kk, int skipped, double[] sum)
        {
            int kd = batch.K * batch.D;
            for (int b = 0; b < kk / batch.K; b++)
            {
                int s = b < skipped ? b : b + 1;
                for (int i = 0; i < kd; i++)
                    sum[(long)s * kd + i] += dw.Pointer[(long)b * kd + i];
            }
            new Span<float>(dw.Pointer, kk * batch.D).Clear();
        }

        public void Finish(double[] sum)
        {
        }

        public void Dispose()
        {
            dw.Dispose();
            staged.Dispose();
            transposed.Dispose();
            rows.Dispose();
            next.Dispose();
        }
    }

    /// <summary>
    /// Shifted rows (<see cref="Batch.Shifted"/>): <see cref="ShiftedTile"/>'s products over the entries, on each fold's
    /// θ laid out beforehand (<see cref="ShiftedThetas"/>); a tile ends where a block of <see cref="ShiftedBlocks.BlockRows"/>
    /// rows does, and the sums gain db·sᵀ at the end (Gᵀ·X = Gᵀ·S + db·sᵀ).
    /// </summary>
    private sealed unsafe class ShiftedTiles : ITiles
    {
        private readonly Batch batch;
        private readonly ShiftedThetas thetas;
        // dWᵀ [D, stride] and the tile's sums, then its G, each from a 64-byte boundary: a vector across two cache
        // lines costs two reads (measured 1.5× slower).
        private readonly Pinned<float> dwt, rows;

        public ShiftedTiles(Batch batch, ShiftedThetas thetas)
        {
            (this.batch, this.thetas) = (batch, thetas);
            dwt = new Pinned<float>(batch.D * thetas.Stride + AlignFloats);
            rows = new Pinned<float>(TileRows * thetas.Stride + AlignFloats);
        }

        public int Rows(int start) => ShiftedBlocks.BlockRows - start % ShiftedBlocks.BlockRows;

        public void Logits(int start, int count, int fold, int kk, float* z)
        {
            int at = Math.Max(fold, 0), d = batch.D;
            ShiftedTile.Logits(batch.Shifted, start, count, thetas.Wt + (long)at * d * thetas.Stride,
                thetas.Bias + (long)at * thetas.Stride, kk, ShiftedTile.StrideOf(kk), Aligned(rows.Pointer), z);
        }

        public void AddGradient(int start, int count, float* z, int kk)
        {
            int within = start % ShiftedBlocks.BlockRows;
            ShiftedTile.AddGradient(batch.Shifted, start / ShiftedBlocks.BlockRows, within, within + count, z, kk,
                ShiftedTile.StrideOf(kk), Aligned(rows.Pointer), Aligned(dwt.Pointer));
        }

        public void Flush(int kk, int skipped, double[] sum)
        {
            int k = batch.K, d = batch.D;
            for (int b = 0; b < kk / k; b++)
            {
                int s = b < skipped ? b : b + 1;
                AddTransposed(Aligned(dwt.Pointer), ShiftedTile.StrideOf(kk), b * k, k, d, sum.AsSpan(s * k * d, k * d));
            }
            new Span<float>(Aligned(dwt.Pointer), d * thetas.Stride).Clear();
        }

        public void Finish(double[] sum) => Unshift(batch.Shifted, batch.D, batch.K, thetas.Models, sum);

        public void Dispose()
        {
            dwt.Dispose();
            rows.Dispose();
        }
    }

    /// <summary>A rented array pinned until disposed, read by address (a worker's buffers).</summary>
    private sealed unsafe class Pinned<T> : IDisposable where T : unmanaged
    {
        private readonly T[] array;
        private GCHandle handle;

        public Pinned(int length)
        {
            array = Rent<T>(length);
            handle = GCHandle.Alloc(array, GCHandleType.Pinned);
            Pointer = (T*)handle.AddrOfPinnedObject();
        }

        public T* Pointer { get; }

        public void Dispose()
        {
            handle.Free();
            GiveBack(array);
        }
    }

    /// <summary>
    /// Each fold's θ laid out for shifted rows (<see cref="ShiftedTile.Prepare"/>, rows of StrideOf(g·K) floats for its g
    /// models): fold f's Wᵀ at <see cref="Wt"/> + f·D·stride and its b′ at <see cref="Bias"/> + f·stride; one "fold", θ
    /// itself, for a single fit. Rented, and pinned until disposed: the workers read them by address, and an array the
    /// collector moved between two fixed blocks would start at another offset from its 64-byte boundary.
    /// </summary>
    private sealed unsafe class ShiftedThetas : IDisposable
    {
        private readonly Pinned<float> wt, bias;

        public ShiftedThetas(Batch batch, Stack stack, float* theta, int stride)
        {
            int d = batch.D, k = batch.K, m = stack.Models;
            int folds = stack.FoldAt is null || batch.Rows == 0 ? 1 : stack.FoldAt[batch.Rows - 1] + 1;
            (Stride, Models) = (stride, m);
            (wt, bias) = (new Pinned<float>(folds * d * stride + AlignFloats), new Pinned<float>(folds * stride + AlignFloats));
            Wt = Aligned(wt.Pointer);
            Bias = Aligned(bias.Pointer);
            for (int f = 0; f < folds; f++)
            {
                bool whole = stack.FoldAt is null || stack.Skipped(f) == m; // no model leaves fold f out
                int kk = (whole ? m : m - 1) * k;
                ShiftedTile.Prepare(stack.FoldAt is null ? theta : stack.FoldTheta[f], batch.Shifted.Shift, d, kk,
                    ShiftedTile.StrideOf(kk), Wt + (long)f * d * stride, Bias + (long)f * stride);
            }
        }

        public float* Wt { get; }
        public float* Bias { get; }
        /// <summary>Floats a row of Wᵀ (or dWᵀ) takes: room for all m models' logits (each fold's own rows: StrideOf(g·K)).</summary>
        public int Stride { get; }
        /// <summary>m, the models of the stack.</summary>
        public int Models { get; }

        public void Dispose()
        {
            wt.Dispose();
            bias.Dispose();
        }
    }

    /// <summary>Floats a buffer is rented beyond its length so that it can start at a 64-byte boundary (<see cref="Aligned"/>).</summary>
    internal const int AlignFloats = 64 / sizeof(float);

    /// <summary>The first 64-byte boundary at or after <paramref name="p"/> (null stays null).</summary>
    internal static unsafe float* Aligned(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    /// <summary>into[c, j] += dwt[j, from + c] for c &lt; K: one model's block of a tile's dWᵀ [D, stride] added as dW [K, D].</summary>
    private static unsafe void AddTransposed(float* dwt, int stride, int from, int k, int d, Span<double> into)
    {
        for (int j = 0; j < d; j++)
        {
            float* source = dwt + (long)j * stride + from;
            for (int c = 0; c < k; c++)
                into[c * d + j] += source[c];
        }
    }

    /// <summary>
    /// A worker's sums over shifted rows made sums over X: dW_s += db_s·sᵀ for each model s (Gᵀ·X = Gᵀ·S + db·sᵀ), with
    /// sum = [dW_0 … dW_{m−1} | db_0 … db_{m−1}] in float64.
    /// </summary>
    private static unsafe void Unshift(ShiftedRows rows, int d, int k, int m, double[] sum)
    {
        long kd = (long)m * k * d;
        for (int s = 0; s < m; s++)
        {
            for (int c = 0; c < k; c++)
            {
                double db = sum[kd + s * k + c];
                long at = ((long)s * k + c) * d;
                for (int j = 0; j < d; j++)
                    sum[at + j] += db * rows.Shift[j];
            }
        }
    }

    /// <summary>
    /// Z = X·Wᵀ + b and Q = softmax(Z) of rows 0 … Rows − 1, with each row's (m, log s); where the batch has labels
    /// or targets, the summed loss and the correct count (else zero).
    /// </summary>
    public static unsafe (double Loss, int Correct) Forward<THead>(Batch batch, float* theta, bool withLoss,
        float* logits, float* outputs, float* rowStats)
        where THead : struct, IHead
    {
        int d = batch.D, k = batch.K, kd = k * d;
        int workers = Workers(batch.Rows);
        var losses = new double[workers];
        var correct = new int[workers];
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers },
            [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int w) =>
        {
            (int first, int last) = Range(batch.Rows, workers, w);
            float[] staged = Rent<float>(Restaged(d) ? TileRows * StagedStride(d) : 0);
            float[] transposed = Rent<float>(TransposedLogits(k) ? TileRows * (d + k) : 0); // [Xᵀ | Zᵀ] of the tile
            nint* rows = stackalloc nint[TileRows];
            nint* next = stackalloc nint[TileRows];
            double loss = 0;
            int right = 0;
            fixed (float* copy = staged, xt = transposed)
            {
                for (int start = first; start < last; start += TileRows)
                {
                    int count = Math.Min(TileRows, last - start);
                    PointAtRows(batch, start, count, rows, copy);
                    TileLogits(rows, count, theta, d, k, logits + (long)start * k, xt, NextTile(batch, start + count, last, next));
                    for (int i = start; i < start + count; i++)
                    {
                        var z = new ReadOnlySpan<float>(logits + (long)i * k, k);
                        var q = new Span<float>(outputs + (long)i * k, k);
                        (float max, float logSum, double rowLoss, bool hit) = typeof(THead) == typeof(SoftmaxHead)
                            ? Softmax(z, q, withLoss, batch, batch.RowAt(i))
                            : HeadForward<THead>(z, q, withLoss, batch, batch.RowAt(i));
                        rowStats[2L * i] = max;
                        rowStats[2L * i + 1] = logSum;
                        loss += rowLoss;
                        right += hit ? 1 : 0;
                    }
                }
            }
            (losses[w], correct[w]) = (loss, right);
            GiveBack(staged, transposed);
        });
        return (losses.Sum(), correct.Sum()); // in worker order
    }

    /// <summary>
    /// A zeroed scratch array of at least <paramref name="length"/> from the shared pool: a pass's per-worker buffers
    /// (dW in float and float64, the tile's Xᵀ, its logits) are rented, not allocated. Allocated, every pass took
    /// hundreds of KiB of fresh large-object pages, which the kernel zeroed again each time (7.6% of the samples of
    /// `bench 60000x784x40` in `clear_page_erms`; none once rented).
    /// </summary>
    private static T[] Rent<T>(int length)
    {
        T[] array = ArrayPool<T>.Shared.Rent(length);
        Array.Clear(array, 0, length);
        return array;
    }

    /// <summary>Returns rented arrays to the shared pool (the empty ones were never its).</summary>
    private static void GiveBack<T>(params T[][] arrays)
    {
        foreach (T[] array in arrays)
        {
            if (array.Length > 0)
                ArrayPool<T>.Shared.Return(array);
        }
    }

    /// <summary>
    /// Whether a tile's logits go through its transposed copy (<see cref="HostTile.LogitsTransposed"/>): for many
    /// classes the copy costs little beside the K multiply-adds per element and saves the horizontal sums and
    /// the second-level-cache traffic of <see cref="HostTile.Logits"/>.
    /// </summary>
    private static bool TransposedLogits(int k) => k >= TransposedClasses;

    /// <summary>Classes from which a tile's logits go through its transposed copy.</summary>
    public const int TransposedClasses = 32;

    /// <summary>Z = X·Wᵀ + b of a tile into z [count, K]; <paramref name="scratch"/> holds [Xᵀ | Zᵀ] where transposed.</summary>
    /// <param name="ahead">The next tile's rows, read into cache meanwhile.</param>
    private static unsafe void TileLogits(nint* rows, int count, float* theta, int d, int k, float* z, float* scratch, Ahead ahead)
    {
        float* w = theta, b = theta + (long)k * d;
        if (TransposedLogits(k))
            HostTile.LogitsTransposed(rows, count, w, b, d, k, z, scratch, scratch + (long)TileRows * d, ahead);
        else
            HostTile.Logits(rows, count, w, b, d, k, z, ahead);
    }

    /// <summary>The tile after this one, from batch row <paramref name="start"/> (none at <paramref name="last"/>): its rows in X, to read ahead.</summary>
    private static unsafe Ahead NextTile(Batch batch, int start, int last, nint* next)
    {
        if (!Ahead.Worth(batch.D))
            return default;
        int count = Math.Clamp(last - start, 0, TileRows);
        for (int i = 0; i < count; i++)
            next[i] = (nint)(batch.X + batch.RowAt(start + i) * batch.D);
        return new Ahead(next, count, batch.D);
    }

    /// <summary>
    /// Whether rows of D floats are restaged: rows a multiple of 4 KiB apart fall into the same cache sets and alias
    /// in the load/store buffers, so such rows are copied into the tile at a padded stride first (measured:
    /// 200000×1024×100, 993 → 855 ms).
    /// </summary>
    private static bool Restaged(int d) => d * sizeof(float) % 4096 == 0;

    private static int StagedStride(int d) => d + 16;

    /// <summary>rows[i] = the address of the tile's row i (batch row start + i): in X, or its copy in the staging buffer.</summary>
    private static unsafe void PointAtRows(Batch batch, int start, int count, nint* rows, float* staged)
    {
        int d = batch.D;
        for (int i = 0; i < count; i++)
        {
            float* x = batch.X + batch.RowAt(start + i) * d;
            if (Restaged(d))
            {
                float* copy = staged + (long)i * StagedStride(d);
                new ReadOnlySpan<float>(x, d).CopyTo(new Span<float>(copy, d));
                x = copy;
            }
            rows[i] = (nint)x;
        }
    }

    /// <summary>
    /// One row's loss and hit, then z ← G = ∂loss/∂z (unscaled), by <typeparamref name="THead"/>: the step of every
    /// engine that forms a row's logits itself (the dense tiles here, the sparse rows of <see cref="SparseHostStep"/>).
    /// </summary>
    /// <param name="scratch">[K] floats of the worker's own.</param>
    /// <param name="batch">Where the row's label or target row is (its X is not read).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (double Loss, bool Hit) RowGradient<THead>(Span<float> z, Span<float> scratch, Batch batch, long row)
        where THead : struct, IHead =>
        typeof(THead) == typeof(SoftmaxHead)
            ? SoftmaxGradient(z, scratch, batch, row)
            : HeadGradient<THead>(z, scratch, batch, row);

    /// <summary>One row's outputs q of its logits z, with its loss and hit where asked (<see cref="RowGradient{THead}"/>'s forward half).</summary>
    public static (double Loss, bool Hit) RowForward<THead>(ReadOnlySpan<float> z, Span<float> q, bool withLoss, Batch batch, long row)
        where THead : struct, IHead
    {
        (_, _, double loss, bool hit) = typeof(THead) == typeof(SoftmaxHead)
            ? Softmax(z, q, withLoss, batch, row)
            : HeadForward<THead>(z, q, withLoss, batch, row);
        return (loss, hit);
    }

    /// <summary>Workers for a batch: one per core, fewer for small batches (at least <see cref="MinRowsPerWorker"/> rows each).</summary>
    public static int Workers(int rows) => Math.Clamp(rows / MinRowsPerWorker, 1, Environment.ProcessorCount);

    /// <summary>Worker w's contiguous rows [first, last) of N split into equal parts.</summary>
    private static (int First, int Last) Range(int rows, int workers, int w) =>
        ((int)((long)rows * w / workers), (int)((long)rows * (w + 1) / workers));

    /// <summary>Classes from which a row's softmax goes through vector calls (below, plain loops cost less than a call).</summary>
    public const int VectorClasses = 16;

    /// <summary>Floats whose exps <see cref="ExpRounded"/> computes at a time (8 KiB of float64 on the stack).</summary>
    private const int ExpChunk = 1024;

    /// <summary>
    /// z ← exp(z), in float64 and rounded once to float, so correctly rounded: TensorPrimitives' float exp is off by
    /// up to 1.8 ulp (measured over 2²⁰ values in [−30, 0]), enough to stop L-BFGS short of the optimum (digits: J
    /// 1.9e-6 above that of the correctly rounded exp, in 123 passes against 87); its float64 exp rounded to float
    /// matched (float)Math.Exp on every one of those values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ExpRounded(Span<float> z)
    {
        Span<double> wide = stackalloc double[Math.Min(z.Length, ExpChunk)];
        for (int first = 0; first < z.Length; first += wide.Length)
        {
            Span<float> part = z.Slice(first, Math.Min(wide.Length, z.Length - first));
            Span<double> partWide = wide[..part.Length];
            TensorPrimitives.ConvertTruncating<float, double>(part, partWide);
            TensorPrimitives.Exp(partWide, partWide);
            TensorPrimitives.ConvertTruncating<double, float>(partWide, part);
        }
    }

    /// <summary>A row's m = max z and argmax (the lowest index among equal maxima).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float Max, int Predicted) Max(ReadOnlySpan<float> z)
    {
        if (z.Length >= VectorClasses)
        {
            int at = TensorPrimitives.IndexOfMax(z);
            return (z[at], at);
        }
        float max = z[0];
        int predicted = 0;
        for (int c = 1; c < z.Length; c++)
        {
            if (z[c] > max)
                (max, predicted) = (z[c], c);
        }
        return (max, predicted);
    }

    /// <summary>q = exp(z − m), returning s = Σ q.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Exp(ReadOnlySpan<float> z, float max, Span<float> q)
    {
        if (z.Length >= VectorClasses)
        {
            TensorPrimitives.Subtract(z, max, q);
            ExpRounded(q);
            return TensorPrimitives.Sum(q);
        }
        float sum = 0f;
        for (int c = 0; c < z.Length; c++)
            sum += q[c] = MathF.Exp(z[c] - max);
        return sum;
    }

    /// <summary>
    /// The row's loss and hit, then z ← G = softmax(z) − y in place (softmax = exp(z − m)/s); for soft targets
    /// G = (Σ_c y_c)·softmax(z) − y, the gradient of −Σ_c y_c log q_c when a weighted row's targets sum to its weight.
    /// </summary>
    /// <param name="scratch">[K] floats of the worker's own.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe (double Loss, bool Hit) SoftmaxGradient(Span<float> z, Span<float> scratch, Batch batch, long row)
    {
        (float max, int predicted) = Max(z);
        float sum = Exp(z, max, scratch);
        (double loss, bool hit) = Loss(z, max, MathF.Log(sum), predicted, batch, row);
        if (batch.Targets is null)
        {
            TensorPrimitives.Multiply(scratch, 1f / sum, z);
            z[batch.Labels[row]] -= 1f;
            return (loss, hit);
        }
        var y = new ReadOnlySpan<float>(batch.Targets + row * batch.K, batch.K);
        TensorPrimitives.Multiply(scratch, TensorPrimitives.Sum(y) / sum, z);
        TensorPrimitives.Subtract(z, y, z);
        return (loss, hit);
    }

    /// <summary>
    /// Whether a tile's softmax rows go through <see cref="TileSoftmaxGradient"/>: labelled rows (soft targets take
    /// <see cref="SoftmaxGradient"/> row by row).
    /// </summary>
    private static unsafe bool TileSoftmax<THead>(Batch batch) where THead : struct, IHead =>
        typeof(THead) == typeof(SoftmaxHead) && batch.Targets is null;

    /// <summary>
    /// G = softmax(z) − y of every segment of a tile of labelled rows, with each segment's loss (m − z_y) + log s and
    /// hit: <see cref="SoftmaxGradient"/> for a whole tile at once, the exps of all its logits in vector calls
    /// (<see cref="ExpRounded"/>), one log a segment. Measured on satimage's 6 classes: the scalar exps and logs had
    /// been a quarter of a pass; the whole path over C 6.2 → 5.4 s, with the masked tails of <see cref="HostTile"/>.
    /// Below <see cref="VectorClasses"/> classes the segments go across vector lanes instead (<see cref="ByClass"/>).
    /// </summary>
    /// <param name="z">[count·g, K]: row i's logits of model b at segment i·g + b; overwritten with G.</param>
    /// <param name="g">Segments (models) a row.</param>
    /// <param name="start">The tile's first row in the batch.</param>
    /// <param name="segments">[2·count·g] scratch: each segment's z_y − m and s.</param>
    /// <param name="byClass">Scratch for <see cref="ByClass"/>: <see cref="ByClassLength"/>(count·g, K) floats (unused from <see cref="VectorClasses"/> classes).</param>
    /// <param name="outcomes">[count·g] out: each segment's loss and hit.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void TileSoftmaxGradient(Span<float> z, int k, int g, Batch batch, int start, Span<float> segments,
        Span<float> byClass, Span<(double Loss, bool Hit)> outcomes)
    {
        int n = z.Length / k;
        Span<float> shifts = segments[..n], sums = segments.Slice(n, n); // z_y − m; s
        if (k < VectorClasses)
        {
            ByClass(z, k, g, batch, start, shifts, sums, byClass, outcomes);
            return;
        }
        for (int seg = 0; seg < n; seg++)
        {
            Span<float> row = z.Slice(seg * k, k);
            int label = batch.Labels[batch.RowAt(start + seg / g)];
            (float max, int predicted) = Max(row);
            shifts[seg] = row[label] - max;
            outcomes[seg].Hit = predicted == label;
            TensorPrimitives.Subtract(row, max, row);
        }
        ExpRounded(z);
        for (int seg = 0; seg < n; seg++)
        {
            Span<float> row = z.Slice(seg * k, k);
            float sum = sums[seg] = TensorPrimitives.Sum(row);
            TensorPrimitives.Multiply(row, 1f / sum, row);
            row[batch.Labels[batch.RowAt(start + seg / g)]] -= 1f;
        }
        for (int seg = 0; seg < n; seg++)
            outcomes[seg].Loss = -shifts[seg] + MathF.Log(sums[seg]);
    }

    /// <summary>Floats of <see cref="ByClass"/>'s scratch for <paramref name="segments"/> segments of <paramref name="k"/> classes.</summary>
    private static int ByClassLength(int segments, int k) =>
        k < VectorClasses ? k * RoundUp(segments, Vector<float>.Count) : 0;

    private static int RoundUp(int n, int multiple) => (n + multiple - 1) / multiple * multiple;

    /// <summary>
    /// <see cref="TileSoftmaxGradient"/> for fewer than <see cref="VectorClasses"/> classes: a segment's K logits are
    /// fewer than a vector's lanes (MNIST's 10, each of a search's folds), so the tile is turned class-major,
    /// zᵀ[c, segment], and each step runs over vectors of segments — the max and its class, z − m, the exps, s = Σ_c,
    /// the scale by 1/s — then turned back. Each segment's arithmetic is that of the loops over its own classes (the
    /// same order, the same roundings), only many segments at a time: the same bits, without a short loop, its
    /// branches and its chain of dependent adds a segment.
    /// </summary>
    /// <param name="byClass">[K, n rounded up to a vector]: zᵀ; the lanes past n hold zeros.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ByClass(Span<float> z, int k, int g, Batch batch, int start, Span<float> shifts,
        Span<float> sums, Span<float> byClass, Span<(double Loss, bool Hit)> outcomes)
    {
        int n = z.Length / k, lanes = Vector<float>.Count, width = RoundUp(n, lanes);
        Span<float> zt = byClass[..(k * width)];
        fixed (float* rows = z, columns = zt)
        {
            for (int seg = 0; seg < n; seg++)
            {
                for (int c = 0; c < k; c++)
                    columns[c * width + seg] = rows[seg * k + c];
            }
        }
        for (int c = 0; c < k; c++)
            zt.Slice(c * width + n, width - n).Clear();
        Span<float> maxes = stackalloc float[lanes];
        Span<int> classes = stackalloc int[lanes];
        for (int first = 0; first < width; first += lanes)
        {
            // m and the lowest class that holds it: a later class replaces it only where larger, as in Max.
            var max = new Vector<float>(zt.Slice(first, lanes));
            var predicted = Vector<int>.Zero;
            for (int c = 1; c < k; c++)
            {
                var v = new Vector<float>(zt.Slice(c * width + first, lanes));
                Vector<int> larger = Vector.GreaterThan(v, max);
                max = Vector.ConditionalSelect(larger, v, max);
                predicted = Vector.ConditionalSelect(larger, new Vector<int>(c), predicted);
            }
            max.CopyTo(maxes);
            predicted.CopyTo(classes);
            for (int lane = 0; lane < lanes && first + lane < n; lane++)
            {
                int seg = first + lane, label = batch.Labels[batch.RowAt(start + seg / g)];
                shifts[seg] = zt[label * width + seg] - maxes[lane];
                outcomes[seg].Hit = classes[lane] == label;
            }
            for (int c = 0; c < k; c++)
            {
                Span<float> lane = zt.Slice(c * width + first, lanes);
                (new Vector<float>(lane) - max).CopyTo(lane);
            }
        }
        ExpRounded(zt);
        for (int first = 0; first < width; first += lanes)
        {
            var sum = Vector<float>.Zero;
            for (int c = 0; c < k; c++)
                sum += new Vector<float>(zt.Slice(c * width + first, lanes));
            sum.CopyTo(maxes);
            var scale = Vector<float>.One / sum;
            for (int c = 0; c < k; c++)
            {
                Span<float> lane = zt.Slice(c * width + first, lanes);
                (new Vector<float>(lane) * scale).CopyTo(lane);
            }
            for (int lane = 0; lane < lanes && first + lane < n; lane++)
                sums[first + lane] = maxes[lane];
        }
        fixed (float* rows = z, columns = zt)
        {
            for (int seg = 0; seg < n; seg++)
            {
                for (int c = 0; c < k; c++)
                    rows[seg * k + c] = columns[c * width + seg];
                rows[seg * k + batch.Labels[batch.RowAt(start + seg / g)]] -= 1f;
                outcomes[seg].Loss = -shifts[seg] + MathF.Log(sums[seg]);
            }
        }
    }

    /// <summary>Q = softmax(Z) of one row into <paramref name="q"/>; returns (m, log s) and the loss and hit where asked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float Max, float LogSum, double Loss, bool Hit) Softmax(ReadOnlySpan<float> z, Span<float> q, bool withLoss,
        Batch batch, long row)
    {
        (float max, int predicted) = Max(z);
        float sum = Exp(z, max, q);
        TensorPrimitives.Multiply(q, 1f / sum, q);
        float logSum = MathF.Log(sum);
        (double loss, bool hit) = withLoss ? Loss(z, max, logSum, predicted, batch, row) : (0, false);
        return (max, logSum, loss, hit);
    }

    /// <summary>Any head's row: q = its outputs of z; the loss and hit where asked. No (m, log s): zeros.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe (float Max, float LogSum, double Loss, bool Hit) HeadForward<THead>(ReadOnlySpan<float> z, Span<float> q,
        bool withLoss, Batch batch, long row)
        where THead : struct, IHead
    {
        fixed (float* zr = z, qr = q)
        {
            bool soft = batch.Targets is not null;
            RowLoss outcome = default(THead).Forward(new PointerRow(zr), new PointerRow(qr), z.Length,
                new PointerRow(soft ? batch.Targets + row * batch.K : null), soft || !withLoss ? 0 : batch.Labels[row], soft,
                withLoss);
            return (0f, 0f, outcome.Loss, outcome.Hit);
        }
    }

    /// <summary>Any head's row: its loss and hit, then z ← G = ∂loss/∂z (unscaled: the sums are scaled at the end).</summary>
    /// <param name="scratch">[K] floats of the worker's own: the outputs.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe (double Loss, bool Hit) HeadGradient<THead>(Span<float> z, Span<float> scratch, Batch batch, long row)
        where THead : struct, IHead
    {
        (_, _, double loss, bool hit) = HeadForward<THead>(z, scratch, withLoss: true, batch, row);
        fixed (float* q = scratch, g = z)
        {
            bool soft = batch.Targets is not null;
            default(THead).Backward(new PointerRow(q), z.Length, new PointerRow(soft ? batch.Targets + row * batch.K : null),
                soft ? 0 : batch.Labels[row], soft, 1f, new PointerRow(g));
        }
        return (loss, hit);
    }

    /// <summary>
    /// −log q_y = (m − z_y) + log s for a label; −Σ_c y_c log q_c = Σ_c y_c ((m − z_c) + log s) for soft targets
    /// (zero targets skipped: 0 · ∞ would be NaN when m − z overflows), the true class then being the largest
    /// target; log q is never formed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe (double Loss, bool Hit) Loss(ReadOnlySpan<float> z, float max, float logSum, int predicted,
        Batch batch, long row)
    {
        if (batch.Targets is null)
        {
            int label = batch.Labels[row];
            return ((max - z[label]) + logSum, predicted == label);
        }
        float* y = batch.Targets + row * batch.K;
        double loss = 0;
        int truth = 0;
        for (int c = 0; c < z.Length; c++)
        {
            if (y[c] > 0f)
                loss += y[c] * ((max - z[c]) + logSum);
            if (y[c] > y[truth])
                truth = c;
        }
        return (loss, predicted == truth);
    }
}
