using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Kernels.Sparse;

namespace SoftmaxGpu.Training;

/// <summary>
/// The sparse objective of <see cref="SparseObjective{THead}"/> — J(θ) = mean loss + (λ/2)‖W‖² for
/// θ = [Wᵀ (D·K) | b (K)], centred implicitly (<see cref="SparseCentring"/>) — evaluated on an ILGPU accelerator
/// (CUDA, OpenCL, ILGPU's CPU accelerator). The rows pass through the device in the blocks of a
/// <see cref="SparseBlocks"/> plan: one block uploaded once and kept where everything fits, else each pass uploads the
/// blocks in turn (CSR, labels and the block's CSC copy, made on the host). An evaluation is
/// <list type="number">
/// <item>θ up in float: Wᵀ and b′ = b − W·μ, made on the host in float64 (P floats);</item>
/// <item>per block: Z = X·Wᵀ + b′ over its CSR rows (<see cref="CsrLogits"/>); the loss's forward pass (Q, the loss
///   and hits into the compensated totals) and G = ∂loss/∂Z in place of Q (<see cref="ILoss.Forward"/>,
///   <see cref="ILoss.Gradient"/>), against the block's labels or, where the set has them, its target rows (multi-label
///   tag sets, label smoothing, class weights: uploaded with the block); the block's [Xᵀ·G | Σ_r G]/N over its CSC copy (<see cref="CscWeightGradient"/>,
///   float64 sums where the device has them), the first block's into dθ, each later one's added to it
///   (<see cref="AddInto"/>);</item>
/// <item>dθ back in float64 (P floats), the centring correction and the L2 term added on the host, as the host engine does.</item>
/// </list>
/// Validation rows (<see cref="Score"/>) go through Z the same way: resident, they are uploaded at their first score
/// and kept. Every sum runs in a fixed order, so an evaluation gives the same bits each time.
/// REVIEW: not run on a GPU yet (CPU accelerator and PoCL only): its time per pass against the host engine's, the
/// three host round trips per evaluation (θ up, dθ and the totals back), and the streamed blocks' uploads (not
/// overlapped with the kernels) are unmeasured.
/// </summary>
public sealed class DeviceSparseObjective : ISparseObjective
{
    private readonly Accelerator accelerator;
    private readonly KernelSet kernels;
    private readonly ILoss loss;
    private readonly SparseSet train;
    private readonly int d, k;
    private readonly double[]? centre;
    private L2Penalty penalty;
    private readonly SparseBlocks blocks;
    private readonly DeviceRows rows; // the training rows (resident) or the block in flight, with its CSC copy
    private readonly MemoryBuffer1D<float, Stride1D.Dense> theta; // [Wᵀ | b′]: [D·K + K]
    private readonly MemoryBuffer1D<float, Stride1D.Dense> dTheta; // [dWᵀ | db]: [D·K + K]
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? blockGradient; // a later block's [dWᵀ | db] (streamed): [D·K + K]
    private readonly MemoryBuffer1D<float, Stride1D.Dense> logits; // Z: [capacity, K]
    private readonly MemoryBuffer1D<float, Stride1D.Dense> outputs; // Q, then G: [capacity, K]
    private readonly MemoryBuffer1D<float, Stride1D.Dense> rowStats; // (max, log-sum) per row: [capacity, 2]
    private readonly MemoryBuffer1D<float, Stride1D.Dense> lossTotal; // [2] compensated (Totals)
    private readonly MemoryBuffer1D<int, Stride1D.Dense> correctTotal; // [1]
    private readonly float[] hostTheta, hostGradient; // staging: [D·K + K] each
    private readonly float[] hostLoss = new float[Totals.LossLength];
    private readonly int[] hostCorrect = new int[1];
    private readonly int capacity; // rows of Z and Q: a block's
    private DeviceRows? scored; // resident: the last validation rows scored, kept for the next score

    /// <param name="loss">The loss whose forward and gradient kernels run on Z: <see cref="SoftmaxCrossEntropy"/> (the host's
    /// <see cref="SoftmaxHead"/>) or <see cref="SigmoidCrossEntropy"/> (<see cref="SigmoidHead"/>: the set's target rows are its tags).</param>
    /// <param name="centre">μ: [D] the scaled columns' means the model is centred on, or null (not centred).</param>
    /// <param name="lambda">λ of (λ/2)‖W‖².</param>
    /// <param name="blocks">How the rows pass through the device (<see cref="SparseBlocks.Plan"/>); null: resident.</param>
    public DeviceSparseObjective(Gpu gpu, ILoss loss, SparseSet train, int k, double[]? centre, double lambda,
        SparseBlocks? blocks = null)
    {
        if (train.Rows == 0)
            throw new ArgumentException("no training rows", nameof(train));
        if (centre is not null && centre.Length != train.Dim)
            throw new ArgumentException($"the centre has {centre.Length} values; the rows {train.Dim} features", nameof(centre));
        (accelerator, kernels, this.loss, this.train, d, this.k, this.centre) =
            (gpu.Accelerator, gpu.Kernels, loss, train, train.Dim, k, centre);
        penalty = new L2Penalty(lambda, new ParameterBlock(ParameterLayout.Weights, 0, [d, k]));
        this.blocks = blocks ?? new SparseBlocks(train.Rows, long.MaxValue, Resident: true);
        capacity = Math.Min(this.blocks.Rows, train.Rows);
        long entries = this.blocks.Resident ? train.X.NonZeros : this.blocks.Entries;
        var disposables = new List<IDisposable>();
        try
        {
            rows = Track(disposables, new DeviceRows(accelerator, capacity, entries, d, train.Targets is null ? 0 : k));
            theta = Track(disposables, accelerator.Allocate1D<float>(Parameters));
            dTheta = Track(disposables, accelerator.Allocate1D<float>(Parameters));
            if (!this.blocks.Resident)
                blockGradient = Track(disposables, accelerator.Allocate1D<float>(Parameters));
            logits = Track(disposables, accelerator.Allocate1D<float>((long)capacity * k));
            outputs = Track(disposables, accelerator.Allocate1D<float>((long)capacity * k));
            rowStats = Track(disposables, accelerator.Allocate1D<float>(2L * capacity));
            lossTotal = Track(disposables, accelerator.Allocate1D<float>(Totals.LossLength));
            correctTotal = Track(disposables, accelerator.Allocate1D<int>(1));
        }
        catch
        {
            foreach (IDisposable made in disposables)
                made.Dispose();
            throw;
        }
        hostTheta = new float[Parameters];
        hostGradient = new float[Parameters];
    }

    public double Lambda
    {
        get => penalty.Lambda;
        set => penalty = penalty with { Lambda = value };
    }

    /// <summary>P = D·K + K.</summary>
    public long Parameters => (long)d * k + k;

    /// <summary>J(θ), a new ∇J(θ), and the mean loss and accuracy behind them (tests).</summary>
    public (double J, double[] Gradient, double Loss, double Accuracy) Evaluate(double[] theta)
    {
        var gradient = new double[Parameters];
        (double j, double mean, double accuracy) = Evaluate(theta, gradient);
        return (j, gradient, mean, accuracy);
    }

    public (double J, double Loss, double Accuracy) Evaluate(double[] theta, double[] gradient)
    {
        LoadTheta(theta);
        int n = train.Rows;
        bool first = true;
        foreach ((int start, int count) in blocks.Of(train.X))
        {
            Block block = rows.Load(train, start, count, withColumns: true);
            ArrayView<float> z = Rows(logits, count, k), g = Rows(outputs, count, k);
            kernels.SparseLinear.Logits(block.RowStart, block.Columns, block.Values, this.theta.View, count, d, k, z);
            loss.Forward(kernels, z, block.Labels, block.Targets, count, k, 1f / n, g, Rows(rowStats, count, 2),
                lossTotal.View, correctTotal.View);
            // G unscaled (each entry in [−1, 1]; weighted rows: their weight); the 1/N is applied once per sum of dθ, after its float64 accumulation.
            loss.Gradient(kernels, g, block.Labels, block.Targets, count, k, 1f);
            ArrayView<float> share = first ? dTheta.View : blockGradient!.View;
            kernels.SparseLinear.WeightGradient(block.ColumnStart, block.RowIndex, block.ColumnValues, g, count, d, k, 1f / n, share);
            if (!first)
                kernels.AddInto.Launch(share, dTheta.View);
            first = false;
        }
        dTheta.View.CopyToCPU(hostGradient);
        (double mean, long correct) = ReadTotals();
        for (int i = 0; i < hostGradient.Length; i++)
            gradient[i] = hostGradient[i];
        SparseCentring.Uncentre(gradient, centre, d, k);
        return (penalty.AddTo(mean, theta, gradient), mean, (double)correct / n);
    }

    /// <summary>Mean loss and accuracy of <paramref name="set"/> (validation rows) under θ, without a gradient.</summary>
    public (double Loss, double Accuracy) Score(double[] theta, SparseSet set)
    {
        if (set.Dim != d)
            throw new ArgumentException($"the rows have {set.Dim} features; the model {d}", nameof(set));
        SparseTraining.RequireTags(loss is SigmoidCrossEntropy, set, nameof(set));
        if (set.Rows == 0)
            return (double.NaN, double.NaN);
        DeviceRows on = OnDevice(set);
        LoadTheta(theta);
        foreach ((int first, int count) in blocks.Of(set.X))
        {
            Block block = on.Load(set, first, count, withColumns: false);
            ArrayView<float> z = Rows(logits, count, k);
            kernels.SparseLinear.Logits(block.RowStart, block.Columns, block.Values, this.theta.View, count, d, k, z);
            loss.Forward(kernels, z, block.Labels, block.Targets, count, k, 1f / set.Rows,
                Rows(outputs, count, k), Rows(rowStats, count, 2), lossTotal.View, correctTotal.View);
        }
        (double mean, long correct) = ReadTotals();
        return (mean, (double)correct / set.Rows);
    }

    /// <summary>θ's float copy on the device: [Wᵀ | b′] (<see cref="SparseCentring.Load"/>); the totals zeroed.</summary>
    private void LoadTheta(double[] values)
    {
        if (values.Length != Parameters)
            throw new ArgumentException($"θ of D = {d}, K = {k} has {Parameters} values, got {values.Length}", nameof(values));
        long weights = (long)d * k;
        SparseCentring.Load(values, centre, d, k, hostTheta.AsSpan(0, (int)weights), hostTheta.AsSpan((int)weights, k));
        theta.View.CopyFromCPU(hostTheta);
        lossTotal.MemSetToZero();
        correctTotal.MemSetToZero();
    }

    /// <summary>The totals of the passes since <see cref="LoadTheta"/>: the scaled loss sum and the correct count.</summary>
    private (double Loss, long Correct) ReadTotals()
    {
        lossTotal.View.CopyToCPU(hostLoss);
        correctTotal.View.CopyToCPU(hostCorrect);
        return (Totals.Read(hostLoss), hostCorrect[0]);
    }

    /// <summary>
    /// Where <paramref name="set"/>'s blocks go: streamed, the training rows' buffers; resident, the training rows or a
    /// copy of the whole set, kept for the next score (replacing the last set scored).
    /// </summary>
    private DeviceRows OnDevice(SparseSet set)
    {
        if (!blocks.Resident || ReferenceEquals(set, train))
            return rows;
        if (scored is not null && scored.Holds(set))
            return scored;
        scored?.Dispose();
        scored = null;
        scored = new DeviceRows(accelerator, set.Rows, set.X.NonZeros, d: 0, set.Targets is null ? 0 : k);
        scored.Load(set, 0, set.Rows, withColumns: false);
        return scored;
    }

    /// <summary>The first <paramref name="count"/> rows of width <paramref name="width"/> of a buffer.</summary>
    private static ArrayView<float> Rows(MemoryBuffer1D<float, Stride1D.Dense> buffer, int count, int width) =>
        buffer.View.SubView(0, (long)count * width);

    /// <summary>[from, from + length) of a view; an empty one where length is 0 (from may then be the view's end).</summary>
    private static ArrayView<T> Slice<T>(ArrayView<T> view, int from, int length) where T : unmanaged =>
        length == 0 ? view.SubView(0, 0) : view.SubView(from, length);

    private static T Track<T>(List<IDisposable> made, T disposable) where T : IDisposable
    {
        made.Add(disposable);
        return disposable;
    }

    public void Dispose()
    {
        scored?.Dispose();
        rows.Dispose();
        theta.Dispose();
        dTheta.Dispose();
        blockGradient?.Dispose();
        logits.Dispose();
        outputs.Dispose();
        rowStats.Dispose();
        lossTotal.Dispose();
        correctTotal.Dispose();
    }

    /// <summary>
    /// A block of rows on the device: CSR offsets [rows + 1] (the set's own, from the block's first row), columns and
    /// values [nnz] from the block's first entry, labels [rows], target rows [rows, K] (empty where the set has none);
    /// with its CSC copy (column offsets [D + 1], rows within the block and values [nnz]) where the gradient needs it.
    /// </summary>
    private readonly record struct Block(ArrayView<int> RowStart, ArrayView<int> Columns, ArrayView<float> Values,
        ArrayView<int> Labels, ArrayView<float> Targets, ArrayView<int> ColumnStart, ArrayView<int> RowIndex,
        ArrayView<float> ColumnValues);

    /// <summary>
    /// Device buffers for a block of at most a given number of rows and non-zeros, and the rows they hold: a block is
    /// uploaded when asked for rows they do not hold, and views of rows within the block are free.
    /// </summary>
    /// <param name="width">K where the sets have target rows, else 0.</param>
    private sealed class DeviceRows(Accelerator accelerator, int rows, long entries, int d, int width) : IDisposable
    {
        private readonly MemoryBuffer1D<int, Stride1D.Dense> rowStart = Allocate<int>(accelerator, rows + 1L);
        private readonly MemoryBuffer1D<int, Stride1D.Dense> columns = Allocate<int>(accelerator, entries);
        private readonly MemoryBuffer1D<float, Stride1D.Dense> values = Allocate<float>(accelerator, entries);
        private readonly MemoryBuffer1D<int, Stride1D.Dense> labels = Allocate<int>(accelerator, rows);
        private readonly MemoryBuffer1D<float, Stride1D.Dense> targets = Allocate<float>(accelerator, (long)rows * width);
        private readonly MemoryBuffer1D<int, Stride1D.Dense> columnStart = Allocate<int>(accelerator, d > 0 ? d + 1L : 0);
        private readonly MemoryBuffer1D<int, Stride1D.Dense> rowIndex = Allocate<int>(accelerator, d > 0 ? entries : 0);
        private readonly MemoryBuffer1D<float, Stride1D.Dense> columnValues = Allocate<float>(accelerator, d > 0 ? entries : 0);
        private (SparseSet Set, int First, int Count, bool Columns)? held;

        /// <summary>Whether the buffers hold every row of <paramref name="set"/>.</summary>
        public bool Holds(SparseSet set) => held is { } h && ReferenceEquals(h.Set, set) && h.First == 0 && h.Count == set.Rows;

        /// <summary>Rows [first, first + count) of <paramref name="set"/> on the device, uploaded unless already held.</summary>
        public Block Load(SparseSet set, int first, int count, bool withColumns)
        {
            if (held is not { } h || !ReferenceEquals(h.Set, set) || first < h.First || first + count > h.First + h.Count
                || (withColumns && !(h.Columns && h.First == first && h.Count == count)))
                Upload(set, first, count, withColumns);
            int heldFirst = held!.Value.First;
            int[] offsets = set.X.RowStart;
            int from = offsets[first] - offsets[heldFirst], length = offsets[first + count] - offsets[first];
            return new Block(ViewOf(rowStart).SubView(first - heldFirst, count + 1), Slice(ViewOf(columns), from, length),
                Slice(ViewOf(values), from, length), ViewOf(labels).SubView(first - heldFirst, count),
                set.Targets is null ? ArrayView<float>.Empty : ViewOf(targets).SubView((long)(first - heldFirst) * width, (long)count * width),
                withColumns ? ViewOf(columnStart) : default, withColumns ? Slice(ViewOf(rowIndex), 0, length) : default,
                withColumns ? Slice(ViewOf(columnValues), 0, length) : default);
        }

        private void Upload(SparseSet set, int first, int count, bool withColumns)
        {
            held = null;
            SparseRows x = set.X;
            int from = x.RowStart[first], length = x.RowStart[first + count] - from;
            ViewOf(rowStart).SubView(0, count + 1).CopyFromCPU(x.RowStart.AsSpan(first, count + 1));
            Slice(ViewOf(columns), 0, length).CopyFromCPU(x.Columns.AsSpan(from, length));
            Slice(ViewOf(values), 0, length).CopyFromCPU(x.Values.AsSpan(from, length));
            ViewOf(labels).SubView(0, count).CopyFromCPU(set.Labels.AsSpan(first, count));
            if (set.Targets is float[] y)
            {
                if (width == 0)
                    throw new ArgumentException("target rows, but the device rows were made without room for them", nameof(set));
                ViewOf(targets).SubView(0, (long)count * width).CopyFromCPU(y.AsSpan((int)((long)first * width), count * width));
            }
            if (withColumns)
            {
                // The whole set's copy where the block is the set (made once, kept by the set); else the block's own.
                CscCopy csc = first == 0 && count == set.Rows ? set.Columns
                    : CscCopy.Of(x.RowStart.AsSpan(first, count + 1), x.Columns, x.Values, x.Dim);
                ViewOf(columnStart).CopyFromCPU(csc.ColumnStart);
                Slice(ViewOf(rowIndex), 0, length).CopyFromCPU(csc.Rows);
                Slice(ViewOf(columnValues), 0, length).CopyFromCPU(csc.Values);
            }
            held = (set, first, count, withColumns);
        }

        private static ArrayView<T> ViewOf<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer) where T : unmanaged => buffer.View;

        /// <summary>A buffer of at least one element (ILGPU 1.5.3's Allocate1D of none throws).</summary>
        private static MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(Accelerator accelerator, long length) where T : unmanaged =>
            accelerator.Allocate1D<T>(Math.Max(1, length));

        public void Dispose()
        {
            rowStart.Dispose();
            columns.Dispose();
            values.Dispose();
            labels.Dispose();
            targets.Dispose();
            columnStart.Dispose();
            rowIndex.Dispose();
            columnValues.Dispose();
        }
    }
}
