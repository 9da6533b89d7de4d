using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SoftmaxGpu.Kernels.Host;

/// <summary>
/// The linear layer over sparse rows on the CPU (the host engine's sparse step), for θ = [Wᵀ (D·K) | b (K)]: row j
/// of Wᵀ is feature j's K weights, so each non-zero reads or writes K consecutive floats.
/// <list type="number">
/// <item>Z = X·W, column by column over the CSC copy (<see cref="Sparse.CscCopy"/>): Wᵀ is read in order, each entry
///   adds v·Wᵀ[j] into its row of Z — the random side is Z (N·K floats, which stay in cache), not Wᵀ. Each worker
///   takes a range of columns into its own copy of Z; a row adds the copies in worker order, and b.</item>
/// <item>The head on each row (<see cref="HostStep.RowGradient{THead}"/>): its loss and hit, G = ∂loss/∂z in place of Z.</item>
/// <item>dWᵀ = Xᵀ·G column by column over the CSC copy: dWᵀ[j] = Σ_e v_e·G[row_e], each row of dWᵀ one sum over its
///   own column's entries, written once — no scatter, no float atomics, no per-worker copy of dW. db = Σ_r G[r] per
///   worker over its rows.</item>
/// </list>
/// Without a gradient (<see cref="Forward{THead}"/>: scoring, prediction) the rows go row by row over the CSR form.
/// Rows and columns are split into one contiguous range per worker with equal non-zeros; every sum runs in a fixed
/// order (a column's entries in row order, in float over <see cref="FlushEntries"/> entries then into float64; the
/// workers' Z, db and loss in worker order), so a run is deterministic: the same inputs give the same bits on a
/// given machine. Measured on a 298k-feature text set (bench/RESULTS.md): column-major logits took half the time of
/// row-major ones, whose random reads of Wᵀ miss the cache.
/// </summary>
public static class SparseHostStep
{
    /// <summary>Entries of a column summed in float before they are added into its float64 sum.</summary>
    public const int FlushEntries = 256;

    /// <summary>CSR rows in host memory: row r's entries are RowStart[r] … RowStart[r + 1] − 1 of Columns and Values.</summary>
    public readonly unsafe struct Csr(int* rowStart, int* columns, float* values, int rows, int d)
    {
        public readonly int* RowStart = rowStart;
        public readonly int* Columns = columns;
        public readonly float* Values = values;
        public readonly int Rows = rows;
        public readonly int D = d;
    }

    /// <summary>The CSC copy of the same rows: column j's entries are ColumnStart[j] … ColumnStart[j + 1] − 1 of Rows and Values.</summary>
    public readonly unsafe struct Csc(int* columnStart, int* rows, float* values)
    {
        public readonly int* ColumnStart = columnStart;
        public readonly int* Rows = rows;
        public readonly float* Values = values;
    }

    /// <summary>
    /// grad = gradScale·∇ Σ loss for θ = [Wᵀ | b], in float64 and in that layout; returns the summed loss (unscaled)
    /// and the rows whose prediction is right.
    /// </summary>
    /// <param name="targets">The rows' labels or target rows (<see cref="HostStep.Batch"/>: X is not read).</param>
    /// <param name="wt">Wᵀ: [D, K].</param>
    /// <param name="bias">b: [K].</param>
    /// <param name="z">[N, K] scratch: Z, then G.</param>
    /// <param name="grad">[D·K + K]: overwritten.</param>
    public static unsafe (double Loss, int Correct) Gradient<THead>(Csr x, Csc xt, HostStep.Batch targets, float* wt,
        float* bias, float* z, double gradScale, double[] grad)
        where THead : struct, IHead
    {
        int k = targets.K, d = x.D;
        int workers = HostStep.Workers(x.Rows);
        float*[] partials = ColumnLogits(x, xt, wt, z, k, workers);
        var losses = new double[workers];
        var correct = new int[workers];
        var biasSums = new double[workers][];
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers },
            [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int w) =>
        {
            (int first, int last) = EqualEntries(x.RowStart, x.Rows, workers, w);
            var scratch = new float[k];
            var db = new double[k];
            double loss = 0;
            int right = 0;
            for (int r = first; r < last; r++)
            {
                float* row = z + (long)r * k;
                for (int c = 0; c < k; c++)
                    row[c] += bias[c];
                for (int p = 1; p < workers; p++)
                    Add(partials[p - 1] + (long)r * k, row, k);
                var g = new Span<float>(row, k);
                (double rowLoss, bool hit) = HostStep.RowGradient<THead>(g, scratch, targets, r);
                loss += rowLoss;
                right += hit ? 1 : 0;
                for (int c = 0; c < k; c++)
                    db[c] += g[c];
            }
            (losses[w], correct[w], biasSums[w]) = (loss, right, db);
        });
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers },
            [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int w) =>
        {
            (int first, int last) = EqualEntries(xt.ColumnStart, d, workers, w);
            var partial = new float[k];
            var sum = new double[k];
            fixed (float* into = partial)
            {
                for (int j = first; j < last; j++)
                {
                    ColumnGradient(xt, j, z, k, into, sum);
                    for (int c = 0; c < k; c++)
                        grad[(long)j * k + c] = sum[c] * gradScale;
                }
            }
        });
        foreach (float* partial in partials)
            NativeMemory.Free(partial);
        for (int c = 0; c < k; c++)
        {
            double g = 0;
            for (int w = 0; w < workers; w++)
                g += biasSums[w][c];
            grad[(long)d * k + c] = g * gradScale;
        }
        return (losses.Sum(), correct.Sum()); // in worker order
    }

    /// <summary>
    /// X·W without b, column by column over the CSC copy: worker w takes a range of columns (equal non-zeros), walks
    /// Wᵀ in order and adds v·Wᵀ[j] into the rows of its own copy of Z — worker 0 into <paramref name="z"/>, the
    /// others into the returned buffers [N, K] (freed by the caller), which each row then adds in worker order. Z is
    /// the random side (N·K floats, which stay in cache where a random row of Wᵀ would not).
    /// </summary>
    private static unsafe float*[] ColumnLogits(Csr x, Csc xt, float* wt, float* z, int k, int workers)
    {
        long zBytes = (long)x.Rows * k * sizeof(float);
        var partials = new float*[workers - 1];
        for (int p = 0; p < partials.Length; p++)
            partials[p] = (float*)NativeMemory.Alloc((nuint)Math.Max(1, zBytes));
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers },
            [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int w) =>
        {
            float* into = w == 0 ? z : partials[w - 1];
            NativeMemory.Clear(into, (nuint)zBytes);
            (int first, int last) = EqualEntries(xt.ColumnStart, x.D, workers, w);
            for (int j = first; j < last; j++)
            {
                float* weights = wt + (long)j * k;
                for (int e = xt.ColumnStart[j]; e < xt.ColumnStart[j + 1]; e++)
                    Axpy(xt.Values[e], weights, into + (long)xt.Rows[e] * k, k);
            }
        });
        return partials;
    }

    /// <summary>y += a·x over K floats, in vector lanes (no call: this runs once per non-zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Axpy(float a, float* x, float* y, int k)
    {
        int c = 0;
        var scale = new Vector<float>(a);
        for (; c + Vector<float>.Count <= k; c += Vector<float>.Count)
            *(Vector<float>*)(y + c) += scale * *(Vector<float>*)(x + c);
        for (; c < k; c++)
            y[c] += a * x[c];
    }

    /// <summary>y += x over K floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Add(float* x, float* y, int k)
    {
        int c = 0;
        for (; c + Vector<float>.Count <= k; c += Vector<float>.Count)
            *(Vector<float>*)(y + c) += *(Vector<float>*)(x + c);
        for (; c < k; c++)
            y[c] += x[c];
    }

    /// <summary>
    /// Z = X·W + b and the head's outputs Q of every row, with the summed loss and the correct count where
    /// <paramref name="withLoss"/> (else zeros).
    /// </summary>
    /// <param name="outputs">Q: [N, K], or null where only the loss and the count are wanted.</param>
    /// <param name="logits">Z: [N, K] kept, or null.</param>
    public static unsafe (double Loss, int Correct) Forward<THead>(Csr x, HostStep.Batch targets, float* wt, float* bias,
        bool withLoss, float* outputs, float* logits = null)
        where THead : struct, IHead
    {
        int k = targets.K;
        int workers = HostStep.Workers(x.Rows);
        var losses = new double[workers];
        var correct = new int[workers];
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers },
            [MethodImpl(MethodImplOptions.AggressiveOptimization)] (int w) =>
        {
            (int first, int last) = EqualEntries(x.RowStart, x.Rows, workers, w);
            var row = new float[k];
            var scratch = new float[k];
            double loss = 0;
            int right = 0;
            for (int r = first; r < last; r++)
            {
                Span<float> z = logits is null ? row : new Span<float>(logits + (long)r * k, k);
                Logits(x, r, wt, bias, z);
                Span<float> q = outputs is null ? scratch : new Span<float>(outputs + (long)r * k, k);
                (double rowLoss, bool hit) = HostStep.RowForward<THead>(z, q, withLoss, targets, r);
                loss += rowLoss;
                right += hit ? 1 : 0;
            }
            (losses[w], correct[w]) = (loss, right);
        });
        return (losses.Sum(), correct.Sum());
    }

    /// <summary>z = b + Σ_e v_e·Wᵀ[col_e] over row r's entries, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Logits(Csr x, int r, float* wt, float* bias, Span<float> z)
    {
        int k = z.Length;
        new ReadOnlySpan<float>(bias, k).CopyTo(z);
        fixed (float* row = z)
            for (int e = x.RowStart[r]; e < x.RowStart[r + 1]; e++)
                Axpy(x.Values[e], wt + (long)x.Columns[e] * k, row, k);
    }

    /// <summary>sum = Σ_e v_e·G[row_e] over column j's entries, in row order: in float over <see cref="FlushEntries"/> entries, then float64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ColumnGradient(Csc xt, int j, float* g, int k, float* partial, Span<double> sum)
    {
        sum.Clear();
        int start = xt.ColumnStart[j], end = xt.ColumnStart[j + 1];
        for (int chunk = start; chunk < end; chunk += FlushEntries)
        {
            new Span<float>(partial, k).Clear();
            int chunkEnd = Math.Min(end, chunk + FlushEntries);
            for (int e = chunk; e < chunkEnd; e++)
                Axpy(xt.Values[e], g + (long)xt.Rows[e] * k, partial, k);
            for (int c = 0; c < k; c++)
                sum[c] += partial[c];
        }
    }

    /// <summary>Worker w's contiguous range [first, last) of <paramref name="count"/> rows (or columns) holding about 1/workers of the entries.</summary>
    /// <param name="start">[count + 1] the CSR row starts (or CSC column starts).</param>
    private static unsafe (int First, int Last) EqualEntries(int* start, int count, int workers, int w) =>
        (Boundary(start, count, workers, w), Boundary(start, count, workers, w + 1));

    /// <summary>The first row whose start is at or past w/workers of the entries (0 for w = 0, count for w = workers).</summary>
    private static unsafe int Boundary(int* start, int count, int workers, int w)
    {
        if (w == 0)
            return 0;
        if (w == workers)
            return count;
        long target = start[0] + (long)(start[count] - start[0]) * w / workers;
        int lo = 0, hi = count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (start[mid] < target)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo;
    }
}
