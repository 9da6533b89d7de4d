using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Distributed;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Kernels.Host;

namespace SoftmaxGpu.Training;

/// <summary>
/// The model's parameters on the device and everything computed from them: the gradient of a batch, the loss
/// and accuracy of a set, and predictions. It owns every device buffer it uses and makes the fused-or-separate
/// choice once, for its batch size on this device. The trainer, every optimizer, prediction and the benchmark
/// all go through it.
///
/// The gradient of a batch is either the fused pass (where W fits in shared memory: one read of X, nothing of
/// size B×K in device memory) or one kernel per operation:
/// gather → Z = X·Wᵀ + b → loss forward (softmax, loss) → G = ∂loss/∂Z → dW = Gᵀ·X, db = Σ G.
/// On the host engine (<see cref="Backends.Host"/>) the buffers are ILGPU CPU-accelerator memory, that is host
/// memory, and <see cref="HostStep"/> computes the gradient and the forward pass on them in managed SIMD code;
/// the optimizers' small kernels still run as kernels.
/// theta = [W (K·D) | b (K)]; nothing is allocated per step.
///
/// Data-parallel training (<see cref="Ranks"/> of more than one process) plugs in here and nowhere else: each
/// rank computes its shard's sums into Grad and the totals, and <see cref="Reduce"/> replaces them by their sums
/// over every rank — one all-reduce of [∇ | loss | correct] in float64 — before anything reads them.
/// </summary>
public sealed class GradientEngine : IDisposable
{
    /// <summary>Most rows per forward block when evaluating or predicting a whole set: bounds the Z and Q buffers.</summary>
    public const int BlockRows = 65536;
    /// <summary>Most floats of one forward buffer (Z or Q) for evaluation blocks: 16 MiB each.</summary>
    public const int BlockFloats = 1 << 22;

    private readonly Accelerator accelerator;
    private readonly KernelSet kernels;
    private readonly bool softTargets;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> theta;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> grad;
    // One block's share of a gradient summed over blocks (streamed data); allocated at the first such block.
    private MemoryBuffer1D<float, Stride1D.Dense>? blockGrad;
    // The running totals (Totals): the summed loss as a compensated pair, and the correct count.
    private readonly MemoryBuffer1D<float, Stride1D.Dense> lossTotal;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> correctTotal;
    // Forward block: Z, Q (overwritten by G on the per-operation path), (m, log s) per row.
    private readonly MemoryBuffer1D<float, Stride1D.Dense> logits;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> outputs;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> rowStats;
    // The host side of the all-reduce across ranks, allocated at the first one (never in one process).
    private double[]? reduceBuffer;
    private float[]? reduceGradient;
    // Gradient path, allocated at the first gradient (an engine that only predicts never needs them).
    private MemoryBuffer1D<float, Stride1D.Dense>? partials;
    private MemoryBuffer1D<float, Stride1D.Dense>? batchX;
    private MemoryBuffer1D<int, Stride1D.Dense>? batchY;
    private MemoryBuffer1D<float, Stride1D.Dense>? batchTargets;
    private MemoryBuffer1D<float, Stride1D.Dense>? workspace;

    /// <param name="batchRows">Most rows of one gradient batch (or of one prediction block).</param>
    /// <param name="fused">Force the fused pass (true) or the per-operation path (false); null: the device's preference.
    /// The host engine has one path and ignores it.</param>
    /// <param name="softTargets">Whether batches come with soft targets (sizes the gather buffer).</param>
    /// <param name="evaluationRows">Most rows of a set it will evaluate at once (null: the batch's); sizes the forward blocks.</param>
    public GradientEngine(Gpu gpu, ILoss loss, int d, int k, int batchRows, bool? fused = null, bool softTargets = false,
        int? evaluationRows = null, ICommunicator? ranks = null)
    {
        accelerator = gpu.Accelerator;
        Ranks = ranks ?? SingleProcess.Instance;
        kernels = gpu.Kernels;
        Loss = loss;
        D = d;
        K = k;
        BatchRows = batchRows;
        this.softTargets = softTargets;
        Host = gpu.Host;
        FusedStep? pass = Host ? null : loss.FusedPass(kernels);
        bool fits = pass is not null && pass.Fits(d, k);
        if (fused == true && !fits && !Host)
            throw new ArgumentException($"a {d}×{k} model has no fused pass on this device ({loss.Name}, shared memory)");
        Fused = !Host && (fused ?? (fits && pass!.Preferred(batchRows, d, k)));
        // Evaluation takes blocks as large as the set, within BlockRows and BlockFloats (fewer launches); the
        // per-operation path also computes a whole batch in these buffers, the fused pass never does.
        int evaluation = Math.Clamp(evaluationRows ?? batchRows, 1, Math.Min(BlockRows, Math.Max(1, BlockFloats / k)));
        BlockCapacity = Fused ? evaluation : Math.Max(batchRows, evaluation);

        Layout = ParameterLayout.Linear(k, d);
        theta = accelerator.Allocate1D<float>(Layout.Length);
        theta.MemSetToZero();
        grad = accelerator.Allocate1D<float>(theta.Length);
        lossTotal = accelerator.Allocate1D<float>(Totals.LossLength);
        correctTotal = accelerator.Allocate1D<int>(1);
        ResetTotals();
        logits = accelerator.Allocate1D<float>((long)BlockCapacity * k);
        outputs = accelerator.Allocate1D<float>((long)BlockCapacity * k);
        rowStats = accelerator.Allocate1D<float>(2L * BlockCapacity);
    }

    public ILoss Loss { get; }
    /// <summary>The processes training together; Grad and the totals are summed over them (<see cref="Reduce"/>).</summary>
    public ICommunicator Ranks { get; }
    /// <summary>Wall time spent in all-reduces so far, copies to and from the host included (zero alone).</summary>
    public TimeSpan ReduceTime { get; private set; }
    public int D { get; }
    public int K { get; }
    public int BatchRows { get; }
    /// <summary>Rows of the forward buffers: a set is evaluated in blocks of this many.</summary>
    public int BlockCapacity { get; }
    /// <summary>Whether the fused single-pass kernel computes the gradient.</summary>
    public bool Fused { get; }
    /// <summary>Whether managed code on the host computes the gradient and forward passes (<see cref="HostStep"/>).</summary>
    public bool Host { get; }

    /// <summary>theta: [K·D + K] = W [K, D] then b [K]. Optimizers update it in place.</summary>
    public ArrayView1D<float, Stride1D.Dense> Theta => theta.View;
    /// <summary>∇ of the last batch: [K·D + K], dW then db.</summary>
    public ArrayView1D<float, Stride1D.Dense> Grad => grad.View;
    /// <summary>θ's named blocks: W [K, D] then b [K].</summary>
    public ParameterLayout Layout { get; }
    public ArrayView<float> Weights => Block(ParameterLayout.Weights);
    public ArrayView<float> Bias => Block(ParameterLayout.Bias);

    /// <summary>The device view of one named block of θ.</summary>
    public ArrayView<float> Block(string name) => theta.View.SubView(Layout[name].Offset, Layout[name].Length);

    public void ResetTotals()
    {
        lossTotal.MemSetToZero();
        correctTotal.MemSetToZero();
    }

    /// <summary>The running totals: summed scaled loss and correct count.</summary>
    public (double Loss, long Correct) ReadTotals() =>
        (Totals.Read(lossTotal.GetAsArray1D()), correctTotal.GetAsArray1D()[0]);

    /// <summary>
    /// Grad = ∇ mean loss over a batch: rows order[0..rows) of the set (or its first rows when order is empty);
    /// adds lossScale·Σ loss and the correct count to the totals.
    /// </summary>
    /// <param name="order">Batch rows as indices into the set: [rows]; empty for the set's first rows.</param>
    public void Gradient(DeviceSet set, ArrayView<int> order, int rows, float lossScale) =>
        Gradient(set, order, rows, lossScale, 1f / rows, accumulate: false);

    /// <summary>
    /// The gradient of gradScale·Σ loss over the rows (1/B: the batch mean; 1/N: one block's share of a mean over
    /// N rows), written to Grad, or with <paramref name="accumulate"/> added to it (a batch streamed in blocks).
    /// </summary>
    public void Gradient(DeviceSet set, ArrayView<int> order, int rows, float lossScale, float gradScale, bool accumulate)
    {
        if (rows > BatchRows)
            throw new ArgumentException($"a batch of {rows} rows exceeds this engine's {BatchRows}");
        AllocateGradientBuffers();
        if (accumulate)
            blockGrad ??= accelerator.Allocate1D<float>(theta.Length);
        ArrayView1D<float, Stride1D.Dense> target = accumulate ? blockGrad!.View : Grad;
        GradientInto(set, order, rows, lossScale, gradScale, target);
        if (accumulate)
            kernels.AddInto.Launch(target, Grad);
    }

    /// <summary>
    /// Grad = ∇ mean loss over every row of <paramref name="data"/> (the full batch): one block when resident, else
    /// each streamed block's 1/N share summed into Grad; the loss, scaled by 1/N, is added to the totals. Across
    /// ranks N is every rank's rows (<see cref="TrainingData.TotalRows"/>) and Grad and the totals are then summed
    /// over the ranks: every rank holds the gradient and loss of the whole set.
    /// </summary>
    public void FullBatchGradient(TrainingData data)
    {
        float scale = 1f / data.TotalRows;
        if (data.IsStreamed)
            grad.MemSetToZero();
        data.ForEachBlock(null, (_, part, rows) => Gradient(part, default, rows, scale, scale, accumulate: data.IsStreamed));
        Reduce(gradient: true, totals: true);
    }

    /// <summary>
    /// Sums Grad and/or the totals over <see cref="Ranks"/> in one all-reduce, in place; alone, nothing happens.
    /// Grad is already each rank's share of a mean whose divisor counts every rank's rows (1/N of the whole set);
    /// a mini-batch step's mean over the ranks' batches is <see cref="ReduceBatchGradient"/>.
    /// </summary>
    public void Reduce(bool gradient, bool totals)
    {
        if (Ranks.Size > 1)
            AllReduce(gradient, batchRows: null, totals);
    }

    /// <summary>
    /// Grad ← the mean gradient over the union of every rank's current batch: Σ_ranks B_r·∇_r / Σ_ranks B_r, where
    /// this rank's Grad is the mean over its <paramref name="batchRows"/> rows (0: it had no batch this step).
    /// </summary>
    public void ReduceBatchGradient(int batchRows)
    {
        if (Ranks.Size > 1)
            AllReduce(gradient: true, batchRows, totals: false);
    }

    /// <summary>
    /// One all-reduce of the buffer [B·∇ (P) | B | loss | correct] (the parts asked for), in float64: the reduced
    /// loss keeps the digits of the engine's compensated total, and P + 3 doubles cost what P floats do next to the
    /// call's latency. MPI gives every rank the same sums, so every rank's optimizer takes the same step.
    /// </summary>
    private void AllReduce(bool gradient, int? batchRows, bool totals)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        int p = gradient ? (int)grad.Length : 0, weight = batchRows is null ? 0 : 1;
        // Host copies made once, at the first all-reduce: [∇ | B | loss | correct] in float64 and ∇ in float.
        reduceBuffer ??= new double[grad.Length + 3];
        reduceGradient ??= new float[grad.Length];
        Span<double> buffer = reduceBuffer.AsSpan(0, p + weight + (totals ? 2 : 0));
        float[] g = reduceGradient;
        if (gradient)
        {
            grad.CopyToCPU(g);
            double rows = batchRows ?? 1;
            for (int i = 0; i < p; i++)
                buffer[i] = batchRows == 0 ? 0 : rows * g[i]; // no batch: its Grad is stale, not zero
            if (batchRows is int b)
                buffer[p] = b;
        }
        if (totals)
            (buffer[p + weight], buffer[p + weight + 1]) = ReadTotals();
        Ranks.Sum(buffer);
        if (gradient)
        {
            double divisor = batchRows is null ? 1 : buffer[p];
            for (int i = 0; i < p; i++)
                g[i] = (float)(buffer[i] / divisor);
            grad.CopyFromCPU(g);
        }
        if (totals)
        {
            double loss = buffer[p + weight];
            lossTotal.CopyFromCPU([(float)loss, (float)(loss - (float)loss)]);
            correctTotal.CopyFromCPU([checked((int)buffer[p + weight + 1])]);
        }
        ReduceTime += System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    private void GradientInto(DeviceSet set, ArrayView<int> order, int rows, float lossScale, float gradScale,
        ArrayView1D<float, Stride1D.Dense> target)
    {
        if (Host)
        {
            HostGradient(set, order, rows, lossScale, gradScale, target);
            return;
        }
        if (Fused)
        {
            FusedStep pass = Loss.FusedPass(kernels)!;
            FusedBatch batch = pass.Batch(rows, D, K, gradScale, lossScale);
            int groups = pass.Launch(set.Features, order, set.Labels, set.Targets, Theta, batch, partials!.View);
            kernels.PartialSum.Launch(partials.View, groups, batch.PartialLength, target, lossTotal.View, correctTotal.View);
            return;
        }

        ArrayView<float> x = set.Features, targets = set.Targets;
        ArrayView<int> labels = set.Labels;
        if (order.Length > 0)
        {
            kernels.GatherRows.Launch(x, order, D, batchX!.View);
            kernels.GatherRows.Launch(labels, order, 1, batchY!.View);
            if (targets.Length > 0)
                kernels.GatherRows.Launch(targets, order, K, batchTargets!.View);
            (x, labels) = (batchX.View, batchY.View);
            targets = targets.Length > 0 ? batchTargets!.View : default;
        }
        Forward(x, labels, targets, rows, lossScale);
        // G = ∂(mean loss)/∂Z, in place over the outputs.
        ArrayView<float> g = outputs.View;
        Loss.Gradient(kernels, g, labels, targets, rows, K, gradScale);
        // dW[c, j] = Σ_r G[r, c]·X[r, j]: A = Gᵀ ([K, B] read from [B, K]), B = X [B, D]; the rows split
        // into slices when K×D alone gives the device too few groups.
        kernels.MatMul.Launch(g, Strides.Transposed(K), x, Strides.RowMajor(D), ArrayView<float>.Empty,
            K, D, rows, target.SubView(0, (long)K * D), workspace is null ? default : workspace.View);
        kernels.ColumnSum.Launch(g, rows, K, target.SubView((long)K * D, K));
    }

    /// <summary>
    /// Mean loss and accuracy of a whole set under the current θ, block by block; one read-back. Across ranks, of
    /// the union of their shards (the sums all-reduced).
    /// </summary>
    public (double Loss, double Accuracy) Evaluate(TrainingData data)
    {
        ResetTotals();
        data.ForEachBlock(null, (_, part, rows) =>
            ForEachBlock(part.Features, rows, part.Labels.SubView(0, rows), part.Targets, 1f / data.TotalRows, null));
        Reduce(gradient: false, totals: true);
        (double loss, long correct) = ReadTotals();
        return (loss, (double)correct / data.TotalRows);
    }

    /// <summary>
    /// The forward pass over <paramref name="n"/> rows of X in blocks of <see cref="BlockCapacity"/>; after each
    /// block, <paramref name="afterBlock"/>(start, rows, Z, Q) may read the block's logits and outputs. Loss
    /// sums (where labels or targets are given) go to the totals.
    /// </summary>
    /// <param name="x">X: [N, D].</param>
    /// <param name="labels">y: [N] or empty.</param>
    /// <param name="targets">Y: [N, K] or empty.</param>
    public void ForEachBlock(ArrayView<float> x, int n, ArrayView<int> labels, ArrayView<float> targets, float lossScale,
        Action<int, int, ArrayView<float>, ArrayView<float>>? afterBlock)
    {
        for (int start = 0; start < n; start += BlockCapacity)
        {
            int rows = Math.Min(BlockCapacity, n - start);
            Forward(x.SubView((long)start * D, (long)rows * D),
                labels.Length > 0 ? labels.SubView(start, rows) : labels,
                targets.Length > 0 ? targets.SubView((long)start * K, (long)rows * K) : targets,
                rows, lossScale);
            afterBlock?.Invoke(start, rows, logits.View.SubView(0, (long)rows * K), outputs.View.SubView(0, (long)rows * K));
        }
    }

    /// <summary>Predicted class (largest logit; ties to the lowest index) of each row of a block's logits.</summary>
    public void Argmax(ArrayView<float> blockLogits, int rows, ArrayView<int> predicted) =>
        kernels.Argmax.Launch(blockLogits, rows, K, predicted);

    /// <summary>Z = X·Wᵀ + b, then the loss's forward pass, over one block of rows.</summary>
    private void Forward(ArrayView<float> x, ArrayView<int> labels, ArrayView<float> targets, int rows, float lossScale)
    {
        if (Host)
        {
            HostForward(x, labels, targets, rows, lossScale);
            return;
        }
        // Z[r, c] = Σ_j X[r, j]·W[c, j] + b[c]: B's element (j, c) is W[c·D + j], the transpose of W.
        kernels.MatMul.Launch(x, Strides.RowMajor(D), Weights, Strides.Transposed(D), Bias, rows, K, D, logits.View);
        Loss.Forward(kernels, logits.View, labels, targets, rows, K, lossScale, outputs.View, rowStats.View, lossTotal.View, correctTotal.View);
    }

    private unsafe void HostGradient(DeviceSet set, ArrayView<int> order, int rows, float lossScale, float gradScale,
        ArrayView1D<float, Stride1D.Dense> target)
    {
        accelerator.Synchronize(); // θ, the order and the rows are written by kernels and copies before this
        var batch = new HostStep.Batch((float*)Address(set.Features), order.Length > 0 ? (int*)Address(order) : null,
            (int*)Address(set.Labels), set.Targets.Length > 0 ? (float*)Address(set.Targets) : null, rows, D, K);
        double[] loss = new double[1];
        int[] correct = new int[1];
        Loss.HostGradient(batch, HostStep.Stack.One, (float*)Address(Theta), [gradScale], Span(target), loss, correct);
        AddToTotals(loss[0] * lossScale, correct[0]);
    }

    private unsafe void HostForward(ArrayView<float> x, ArrayView<int> labels, ArrayView<float> targets, int rows, float lossScale)
    {
        accelerator.Synchronize();
        bool withLoss = labels.Length > 0 || targets.Length > 0;
        var batch = new HostStep.Batch((float*)Address(x), null, labels.Length > 0 ? (int*)Address(labels) : null,
            targets.Length > 0 ? (float*)Address(targets) : null, rows, D, K);
        (double loss, int correct) = Loss.HostForward(batch, (float*)Address(Theta), withLoss,
            (float*)Address(logits.View), (float*)Address(outputs.View), (float*)Address(rowStats.View));
        if (withLoss)
            AddToTotals(loss * lossScale, correct);
    }

    /// <summary>Adds to the running totals from the host (their buffers are host memory on this engine).</summary>
    private void AddToTotals(double loss, int correct)
    {
        Totals.AddLoss(Span(lossTotal.View), loss);
        Span(correctTotal.View)[0] += correct;
    }

    /// <summary>The host address of a CPU-accelerator view (host engine only).</summary>
    private static IntPtr Address<T>(ArrayView<T> view) where T : unmanaged => view.LoadEffectiveAddressAsPtr();

    private static IntPtr Address<T>(ArrayView1D<T, Stride1D.Dense> view) where T : unmanaged => Address((ArrayView<T>)view);

    /// <summary>A CPU-accelerator view as a span (host engine only; at most 2³¹ − 1 elements).</summary>
    private static unsafe Span<T> Span<T>(ArrayView<T> view) where T : unmanaged =>
        new((void*)Address(view), checked((int)view.Length));

    private static Span<T> Span<T>(ArrayView1D<T, Stride1D.Dense> view) where T : unmanaged => Span((ArrayView<T>)view);

    private void AllocateGradientBuffers()
    {
        if (Host || partials is not null || batchX is not null)
            return;
        if (Fused)
        {
            FusedStep pass = Loss.FusedPass(kernels)!;
            partials = accelerator.Allocate1D<float>((long)pass.Groups(BatchRows, D, K) * pass.Batch(BatchRows, D, K, 1f, 1f).PartialLength);
            return;
        }
        batchX = accelerator.Allocate1D<float>((long)BatchRows * D);
        batchY = accelerator.Allocate1D<int>(BatchRows);
        batchTargets = softTargets ? accelerator.Allocate1D<float>((long)BatchRows * K) : null;
        long slices = kernels.MatMul.WorkspaceFloats(K, D, BatchRows);
        workspace = slices > 0 ? accelerator.Allocate1D<float>(slices) : null;
    }

    public void Dispose()
    {
        theta.Dispose();
        grad.Dispose();
        lossTotal.Dispose();
        correctTotal.Dispose();
        logits.Dispose();
        outputs.Dispose();
        rowStats.Dispose();
        blockGrad?.Dispose();
        partials?.Dispose();
        batchX?.Dispose();
        batchY?.Dispose();
        batchTargets?.Dispose();
        workspace?.Dispose();
    }
}
