using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace SoftmaxGpu.Kernels.Host;

/// <summary>
/// The linear layer over sparse rows on the CPU (the host engine's sparse step), for θ = [Wᵀ (D·K) | b (K)]: row j
/// of Wᵀ is feature j's K weights, so each non-zero reads or writes K consecutive floats. A gradient pass
/// (<see cref="Gradient{THead}"/>) reads θ in float64 as the optimizer holds it and writes ∇ once:
/// <list type="number">
/// <item>Z = X·W, column by column over the CSC copy (<see cref="Sparse.CscCopy"/>): Wᵀ is read in order, each entry
///   adds v·Wᵀ[j] into its row of Z — the random side is Z (N·K floats, which stay in cache), not Wᵀ. Each worker owns
///   a contiguous range of rows and walks its segment of every column (<see cref="Buffers"/>), converting Wᵀ[j] to
///   float as it goes: no copy of Z per worker, no float copy of Wᵀ. Each worker also sums b′'s shift W·μ over its
///   share of the columns.</item>
/// <item>The head on each row (<see cref="HostStep.RowGradient{THead}"/>): Z + b′, its loss and hit, G = ∂loss/∂z in
///   place of Z.</item>
/// <item>dWᵀ = Xᵀ·G column by column over the CSC copy: dWᵀ[j] = Σ_e v_e·G[row_e], each row of dWᵀ one sum over its
///   own column's entries — no scatter, no float atomics, no per-worker copy of dW — finished as it is written
///   (<see cref="Model"/>: the scale, the centring's −μ_j·∇b and the penalty's λ·Wᵀ[j]). db = Σ_r G[r] per worker
///   over its rows.</item>
/// </list>
/// Z and G are rows of <see cref="Buffers.Stride"/> floats (K rounded up to whole vectors, 64-byte aligned), and the
/// rows a column walk will reach next are prefetched (<see cref="PrefetchEntries"/>): they are random reads that miss
/// L2. Without a gradient (<see cref="Forward{THead}"/>: scoring, prediction) the rows go row by row over the CSR form,
/// from a float copy of Wᵀ.
/// Rows and columns are split into one contiguous range per worker with equal non-zeros; every sum runs in a fixed
/// order (a row of Z over its columns in column order; a column's entries in row order, in float over
/// <see cref="FlushEntries"/> entries then into float64; the workers' db, shifts, squares and loss in worker order), so
/// a run is deterministic: the same inputs give the same bits on a given machine. Measured on a 298k-feature text set
/// (bench/RESULTS.md): column-major logits took half the time of row-major ones, whose random reads of Wᵀ miss the cache.
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

    /// <summary>Entries ahead in a column walk whose row of Z (or G) is prefetched: those rows are random reads.</summary>
    public const int PrefetchEntries = 8;

    /// <summary>
    /// θ as the optimizer holds it, and what a gradient pass folds into each row of ∇Wᵀ as it writes it:
    /// ∇Wᵀ[j] = Scale·(Xᵀ·G)[j] − μ_j·∇b + λ·Wᵀ[j], in that order.
    /// </summary>
    /// <param name="theta">θ = [Wᵀ (D·K) | b (K)] in float64.</param>
    /// <param name="centre">μ: [D] the columns' means the model is centred on (the pass runs with b′ = b − W·μ), or null.</param>
    /// <param name="scale">∇ = scale·Σ_rows ∂loss/∂θ (1/N).</param>
    /// <param name="lambda">λ of (λ/2)‖W‖², added as λ·Wᵀ[j]; 0 for none.</param>
    /// <param name="uncentre">Subtract μ_j·∇b (the gradient through b′) as each row is written; false where the caller
    /// adds the pass's sums over ranks first and uncentres the total.</param>
    public readonly unsafe struct Model(double* theta, double* centre, double scale, double lambda, bool uncentre)
    {
        public readonly double* Theta = theta;
        public readonly double* Centre = centre;
        public readonly double Scale = scale;
        public readonly double Lambda = lambda;
        public readonly bool Uncentre = uncentre && centre is not null;
    }

    /// <summary>
    /// What a gradient pass writes besides ∇, made once for a set of rows and reused by every pass (one at a time): Z,
    /// then G, [N, <see cref="Stride"/>], pinned and 64-byte aligned; and where each worker's rows begin in every
    /// column of the CSC copy, found on the first pass.
    /// </summary>
    public sealed unsafe class Buffers
    {
        private readonly float[] rows; // Z, then G: [N, Stride] from the first 64-byte boundary in it
        private readonly nint aligned;
        private int[]? segments; // [(workers − 1)·D]: (w − 1)·D + j is column j's first entry in worker w's rows

        /// <param name="n">N: the rows.</param>
        /// <param name="k">K: the classes.</param>
        /// <param name="workers">The workers a pass splits the rows and columns among: null for
        /// <see cref="HostStep.Workers"/> (one per core); tests give several counts on any machine.</param>
        public Buffers(int n, int k, int? workers = null)
        {
            if (workers is < 1)
                throw new ArgumentOutOfRangeException(nameof(workers), workers, "a pass needs at least one worker");
            // Unpadded where padded rows would pass an array's length (beyond 33 million rows of 64).
            Stride = (long)n * StrideOf(k) + HostStep.AlignFloats <= Array.MaxLength ? StrideOf(k) : k;
            Workers = workers ?? HostStep.Workers(n);
            rows = GC.AllocateUninitializedArray<float>(checked(n * Stride + HostStep.AlignFloats), pinned: true);
            aligned = (nint)HostStep.Aligned((float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(rows)));
        }

        /// <summary>Floats from one row of Z to the next: K rounded up to whole vectors from one vector's K up (the
        /// padding lanes hold zeros and no scalar tail runs per non-zero), else K.</summary>
        public int Stride { get; }

        /// <summary>The workers of each pass.</summary>
        public int Workers { get; }

        internal float* Z => (float*)aligned;

        /// <summary>
        /// Column j's entries in worker w's rows, [first, last) of the CSC copy: the CSC keeps a column's rows in
        /// increasing order, so each worker's rows are one run of it, whose ends are found once by binary search.
        /// </summary>
        internal int[] Segments(Csc xt, int d, (int First, int Last)[] shards)
        {
            if (segments is null)
            {
                segments = new int[(long)(shards.Length - 1) * d];
                for (int w = 1; w < shards.Length; w++)
                    for (int j = 0; j < d; j++)
                        segments[(long)(w - 1) * d + j] = FirstRowAtOrPast(xt, j, shards[w].First);
            }
            return segments;
        }
    }

    /// <summary>Row stride of Z and G for K classes (<see cref="Buffers.Stride"/>).</summary>
    public static int StrideOf(int k) =>
        k < Vector<float>.Count ? k : (k + Vector<float>.Count - 1) / Vector<float>.Count * Vector<float>.Count;

    /// <summary>
    /// ∇ of Σ loss for θ = [Wᵀ | b] (<see cref="Model"/>: scaled, uncentred and penalized as it is written), in float64
    /// and in that layout; returns the summed loss (unscaled), the rows whose prediction is right, and Σ Wᵀ² where
    /// λ ≠ 0 (else 0) for the penalty's value.
    /// </summary>
    /// <param name="targets">The rows' labels or target rows (<see cref="HostStep.Batch"/>: X is not read).</param>
    /// <param name="buffers">Z and G, and the workers' column segments, for these rows and K.</param>
    /// <param name="grad">[D·K + K]: overwritten.</param>
    public static unsafe (double Loss, int Correct, double SquaredWeights) Gradient<THead>(Csr x, Csc xt, HostStep.Batch targets,
        Model model, Buffers buffers, double* grad)
        where THead : struct, IHead
    {
        int k = targets.K, d = x.D, workers = buffers.Workers;
        var shards = new (int First, int Last)[workers];
        for (int w = 0; w < workers; w++)
            shards[w] = EqualEntries(x.RowStart, x.Rows, workers, w);
        var shifts = new double[workers][];
        fixed (int* segments = buffers.Segments(xt, d, shards))
            ColumnLogits(xt, d, k, model, buffers.Z, buffers.Stride, segments, shards, shifts);
        var bias = new float[buffers.Stride]; // b′ = b − W·μ: the workers' sums of −μ_j·Wᵀ[j] (worker 0's from b) in worker order; padding 0
        for (int c = 0; c < k; c++)
        {
            double shifted = 0;
            foreach (double[] shift in shifts)
                shifted += shift[c];
            bias[c] = (float)shifted;
        }
        (double loss, int correct, double[] biasGradient) = Heads<THead>(targets, bias, buffers.Z, buffers.Stride, shards);
        for (int c = 0; c < k; c++)
            grad[(long)d * k + c] = biasGradient[c] * model.Scale;
        double squares = ColumnGradients(xt, d, k, model, buffers.Z, buffers.Stride, grad, workers);
        return (loss, correct, squares);
    }


    /// <summary>
    /// Z = X·W without b, column by column over the CSC copy, each worker into its own rows of Z (cleared first): worker
    /// w walks its segment of every column, converts Wᵀ[j] to float where the segment has entries, and adds v·Wᵀ[j]
    /// into Z[row] for each, prefetching the rows <see cref="PrefetchEntries"/> entries ahead. Its shift
    /// −Σ μ_j·Wᵀ[j] (from b for worker 0) runs over its share of the columns, [D·w/W, D·(w+1)/W), in float64.
    /// </summary>
    /// <param name="segments">[(W − 1)·D] <see cref="Buffers.Segments"/>.</param>
    /// <param name="z">Z: [N, stride], written.</param>
    /// <param name="shifts">[W] each worker's [K] shift, set.</param>
    private static unsafe void ColumnLogits(Csc xt, int d, int k, Model model, float* z, int stride, int* segments,
        (int First, int Last)[] shards, double[][] shifts)
    {
        int workers = shards.Length;
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            (int first, int last) = shards[w];
            NativeMemory.Clear(z + (long)first * stride, (nuint)((long)(last - first) * stride * sizeof(float)));
            int* from = w == 0 ? xt.ColumnStart : segments + (long)(w - 1) * d;
            int* to = w == workers - 1 ? xt.ColumnStart + 1 : segments + (long)w * d;
            var shift = new double[k];
            if (w == 0)
                new ReadOnlySpan<double>(model.Theta + (long)d * k, k).CopyTo(shift);
            fixed (double* into = shift)
                WorkerLogits(xt, d, k, model, from, to, z, stride, first, last,
                    (int)((long)d * w / workers), (int)((long)d * (w + 1) / workers), into);
            shifts[w] = shift;
        });
    }

    /// <summary>
    /// One worker's part of <see cref="ColumnLogits"/>: the entries [from[j], to[j]) of every column j, all in rows
    /// [first, last); and shift −= μ_j·Wᵀ[j] over the columns [shiftFirst, shiftLast), in column order, while the row
    /// of Wᵀ is in cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void WorkerLogits(Csc xt, int d, int k, Model model, int* from, int* to, float* z, int stride,
        int first, int last, int shiftFirst, int shiftLast, double* shift)
    {
        double* theta = model.Theta, centre = model.Centre;
        int* rows = xt.Rows;
        float* values = xt.Values;
        int entries = xt.ColumnStart[d];
        uint span = (uint)(last - first);
        float* weights = stackalloc float[stride]; // Wᵀ[j] in float, its padding lanes zero
        new Span<float>(weights, stride).Clear();
        for (int j = 0; j < d; j++)
        {
            int start = from[j], end = to[j];
            if (centre is not null && j >= shiftFirst && j < shiftLast && centre[j] != 0)
                for (int c = 0; c < k; c++)
                    shift[c] -= centre[j] * theta[(long)j * k + c];
            if (start >= end)
                continue;
            Narrow(theta + (long)j * k, weights, k);
            for (int e = start; e < end; e++)
            {
                int ahead = e + PrefetchEntries;
                if (ahead < entries)
                {
                    int r = rows[ahead];
                    if ((uint)(r - first) < span)
                        Prefetch(z + (long)r * stride, stride);
                }
                Axpy(values[e], weights, z + (long)rows[e] * stride, stride);
            }
        }
    }

    /// <summary>
    /// Per row: Z + b′, the head's loss and hit, G = ∂loss/∂z in place of Z; returns the summed loss, the hits and
    /// db = Σ_r G[r], each summed per worker over its rows and then in worker order.
    /// </summary>
    /// <param name="bias">b′: [stride], zero past K.</param>
    /// <param name="z">Z: [N, stride], G on return.</param>
    private static unsafe (double Loss, int Correct, double[] BiasGradient) Heads<THead>(HostStep.Batch targets, float[] bias,
        float* z, int stride, (int First, int Last)[] shards)
        where THead : struct, IHead
    {
        int k = targets.K, workers = shards.Length;
        var losses = new double[workers];
        var correct = new int[workers];
        var biasSums = new double[workers][];
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            var db = new double[stride];
            fixed (float* b = bias)
            fixed (double* sums = db)
                (losses[w], correct[w]) = WorkerHeads<THead>(targets, b, z, stride, shards[w].First, shards[w].Last, sums);
            biasSums[w] = db;
        });
        var biasGradient = new double[k];
        for (int c = 0; c < k; c++)
            for (int w = 0; w < workers; w++)
                biasGradient[c] += biasSums[w][c];
        return (losses.Sum(), correct.Sum(), biasGradient); // in worker order
    }

    /// <summary>One worker's part of <see cref="Heads{THead}"/>: rows [first, last), their db added into <paramref name="db"/> [stride].</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe (double Loss, int Correct) WorkerHeads<THead>(HostStep.Batch targets, float* bias, float* z, int stride,
        int first, int last, double* db)
        where THead : struct, IHead
    {
        var scratch = new float[targets.K];
        double loss = 0;
        int right = 0;
        for (int r = first; r < last; r++)
        {
            float* row = z + (long)r * stride;
            Axpy(1, bias, row, stride); // z + 1·b′ = z + b′, lane by lane
            (double rowLoss, bool hit) = HostStep.RowGradient<THead>(new Span<float>(row, targets.K), scratch, targets, r);
            loss += rowLoss;
            right += hit ? 1 : 0;
            AddWidened(row, db, stride);
        }
        return (loss, right);
    }

    /// <summary>
    /// ∇Wᵀ = Xᵀ·G column by column over the CSC copy, worker w over a contiguous range of columns (equal non-zeros),
    /// each row finished as it is written (<see cref="FinishRow"/>); returns Σ Wᵀ² (where λ ≠ 0), per worker then in
    /// worker order.
    /// </summary>
    /// <param name="g">G: [N, stride].</param>
    /// <param name="grad">[D·K + K]: ∇b already written at D·K; ∇Wᵀ written.</param>
    private static unsafe double ColumnGradients(Csc xt, int d, int k, Model model, float* g, int stride, double* grad, int workers)
    {
        var squares = new double[workers];
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            (int first, int last) = EqualEntries(xt.ColumnStart, d, workers, w);
            squares[w] = WorkerGradients(xt, first, last, d, k, model, g, stride, grad);
        });
        return squares.Sum();
    }

    /// <summary>One worker's part of <see cref="ColumnGradients"/>: the rows [first, last) of ∇Wᵀ; returns their Σ Wᵀ².</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe double WorkerGradients(Csc xt, int first, int last, int d, int k, Model model, float* g, int stride,
        double* grad)
    {
        float* partial = stackalloc float[stride];
        double* sum = stackalloc double[stride];
        double* biasGradient = grad + (long)d * k;
        int entries = xt.ColumnStart[last];
        double squares = 0;
        for (int j = first; j < last; j++)
        {
            ColumnGradient(xt, j, g, stride, entries, partial, sum);
            squares += FinishRow(sum, model, j, k, biasGradient, grad + (long)j * k);
        }
        return squares;
    }

    /// <summary>
    /// into = scale·sum − μ_j·∇b + λ·Wᵀ[j] over K lanes (the order of the separate passes this replaces: scale,
    /// uncentre, penalty); returns Σ_c Wᵀ[j, c]² where λ ≠ 0, else 0.
    /// </summary>
    /// <param name="sum">[K] (Xᵀ·G)[j] in float64.</param>
    /// <param name="biasGradient">∇b: [K], already scaled.</param>
    /// <param name="into">∇Wᵀ[j]: [K].</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe double FinishRow(double* sum, Model model, int j, int k, double* biasGradient, double* into)
    {
        double* theta = model.Theta + (long)j * k;
        double mu = model.Uncentre ? model.Centre[j] : 0, lambda = model.Lambda;
        var scale = new Vector<double>(model.Scale);
        var muLanes = new Vector<double>(mu);
        var lambdaLanes = new Vector<double>(lambda);
        var squares = Vector<double>.Zero;
        int c = 0;
        for (; c + Vector<double>.Count <= k; c += Vector<double>.Count)
        {
            Vector<double> v = *(Vector<double>*)(sum + c) * scale;
            if (mu != 0)
                v -= muLanes * *(Vector<double>*)(biasGradient + c);
            if (lambda != 0)
            {
                var t = *(Vector<double>*)(theta + c);
                v += lambdaLanes * t;
                squares += t * t;
            }
            *(Vector<double>*)(into + c) = v;
        }
        double tail = 0;
        for (; c < k; c++)
        {
            double v = sum[c] * model.Scale;
            if (mu != 0)
                v -= mu * biasGradient[c];
            if (lambda != 0)
            {
                v += lambda * theta[c];
                tail += theta[c] * theta[c];
            }
            into[c] = v;
        }
        return Vector.Sum(squares) + tail;
    }

    /// <summary>to = (float)from over K lanes (the same rounding as a cast, lane by lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Narrow(double* from, float* to, int k)
    {
        int c = 0;
        for (; c + Vector<float>.Count <= k; c += Vector<float>.Count)
            *(Vector<float>*)(to + c) = Vector.Narrow(*(Vector<double>*)(from + c), *(Vector<double>*)(from + c + Vector<double>.Count));
        for (; c < k; c++)
            to[c] = (float)from[c];
    }

    /// <summary>Asks for the cache lines of a row of Z or G (stride floats) ahead of its use, where the CPU has the instruction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch(float* row, int stride)
    {
        if (!Sse.IsSupported)
            return;
        byte* bytes = (byte*)row;
        int length = stride * sizeof(float);
        for (int b = 0; b < length; b += 64)
            Sse.Prefetch0(bytes + b);
        Sse.Prefetch0(bytes + length - 1); // the last line, where the row does not start on one
    }

    /// <summary>The first entry of column j whose row is at or past <paramref name="row"/> (the column's end if none).</summary>
    private static unsafe int FirstRowAtOrPast(Csc xt, int j, int row)
    {
        int lo = xt.ColumnStart[j], hi = xt.ColumnStart[j + 1];
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (xt.Rows[mid] < row)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo;
    }

    /// <summary>y += a·x over K floats, in vector lanes (no call: this runs once per non-zero).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Axpy(float a, float* x, float* y, int k)
    {
        int c = 0;
        var scale = new Vector<float>(a);
        for (; c + 2 * Vector<float>.Count <= k; c += 2 * Vector<float>.Count)
        {
            *(Vector<float>*)(y + c) += scale * *(Vector<float>*)(x + c);
            *(Vector<float>*)(y + c + Vector<float>.Count) += scale * *(Vector<float>*)(x + c + Vector<float>.Count);
        }
        for (; c + Vector<float>.Count <= k; c += Vector<float>.Count)
            *(Vector<float>*)(y + c) += scale * *(Vector<float>*)(x + c);
        for (; c < k; c++)
            y[c] += a * x[c];
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

    /// <summary>
    /// sum = Σ_e v_e·G[row_e] over column j's entries, in row order: in float over <see cref="FlushEntries"/> entries,
    /// then float64; the rows of G <see cref="PrefetchEntries"/> entries ahead (up to <paramref name="entries"/>) prefetched.
    /// </summary>
    /// <param name="partial">[stride] floats of the worker's own.</param>
    /// <param name="sum">[stride], written (lanes K and up: the padding's zeros).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void ColumnGradient(Csc xt, int j, float* g, int stride, int entries, float* partial, double* sum)
    {
        int* rows = xt.Rows;
        float* values = xt.Values;
        int start = xt.ColumnStart[j], end = xt.ColumnStart[j + 1];
        Clear(sum, stride);
        for (int chunk = start; chunk < end; chunk += FlushEntries)
        {
            Clear(partial, stride);
            int chunkEnd = Math.Min(end, chunk + FlushEntries);
            for (int e = chunk; e < chunkEnd; e++)
            {
                if (e + PrefetchEntries < entries)
                    Prefetch(g + (long)rows[e + PrefetchEntries] * stride, stride);
                Axpy(values[e], g + (long)rows[e] * stride, partial, stride);
            }
            AddWidened(partial, sum, stride);
        }
    }

    /// <summary>x = 0 over n lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Clear<T>(T* x, int n)
        where T : unmanaged
    {
        int c = 0;
        for (; c + Vector<T>.Count <= n; c += Vector<T>.Count)
            *(Vector<T>*)(x + c) = Vector<T>.Zero;
        for (; c < n; c++)
            x[c] = default;
    }

    /// <summary>sum += x over n lanes, each float widened to float64 (exactly) before the add.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void AddWidened(float* x, double* sum, int n)
    {
        int c = 0;
        for (; c + Vector<float>.Count <= n; c += Vector<float>.Count)
        {
            Vector.Widen(*(Vector<float>*)(x + c), out Vector<double> low, out Vector<double> high);
            *(Vector<double>*)(sum + c) += low;
            *(Vector<double>*)(sum + c + Vector<double>.Count) += high;
        }
        for (; c < n; c++)
            sum[c] += x[c];
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
