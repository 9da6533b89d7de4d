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
/// (CUDA, OpenCL, ILGPU's CPU accelerator). The CSR rows, their CSC copy and the labels are uploaded once and stay
/// resident; an evaluation is
/// <list type="number">
/// <item>θ up in float: Wᵀ and b′ = b − W·μ, made on the host in float64 (P floats);</item>
/// <item>Z = X·Wᵀ + b′ over the CSR rows (<see cref="CsrLogits"/>);</item>
/// <item>the loss's forward pass (Q, the loss and hits into the compensated totals) and G = ∂loss/∂Z in place of Q
///   (<see cref="ILoss.Forward"/>, <see cref="ILoss.Gradient"/>);</item>
/// <item>dθ = [Xᵀ·G | Σ_r G]/N over the CSC copy (<see cref="CscWeightGradient"/>, float64 sums where the device has them);</item>
/// <item>dθ back in float64 (P floats), the centring correction and the L2 term added on the host, as the host engine does.</item>
/// </list>
/// Validation rows (<see cref="Score"/>) are uploaded at their first score and kept, and run through Z in blocks of
/// at most N rows. Every sum runs in a fixed order, so an evaluation gives the same bits each time.
/// Device memory: <see cref="Bytes"/>; the caller checks it fits (<see cref="SparseChoice.CheckDevice"/>).
/// REVIEW: not run on a GPU yet (CPU accelerator and PoCL only): its time per pass against the host engine's, and the
/// three host round trips per evaluation (θ up, dθ and the totals back), are unmeasured.
/// </summary>
public sealed class DeviceSparseObjective : ISparseObjective
{
    private readonly Accelerator accelerator;
    private readonly KernelSet kernels;
    private readonly ILoss loss;
    private readonly SparseSet train;
    private readonly int d, k;
    private readonly double[]? centre;
    private readonly L2Penalty penalty;
    private readonly ResidentRows rows; // the training rows: CSR [N + 1], [nnz], [nnz]; y [N]
    private readonly Resident<int> columnStart; // CSC: [D + 1]
    private readonly Resident<int> rowIndex; // CSC: [nnz]
    private readonly Resident<float> columnValues; // CSC: [nnz]
    private readonly MemoryBuffer1D<float, Stride1D.Dense> theta; // [Wᵀ | b′]: [D·K + K]
    private readonly MemoryBuffer1D<float, Stride1D.Dense> dTheta; // [dWᵀ | db]: [D·K + K]
    private readonly MemoryBuffer1D<float, Stride1D.Dense> logits; // Z: [capacity, K]
    private readonly MemoryBuffer1D<float, Stride1D.Dense> outputs; // Q, then G: [capacity, K]
    private readonly MemoryBuffer1D<float, Stride1D.Dense> rowStats; // (max, log-sum) per row: [capacity, 2]
    private readonly MemoryBuffer1D<float, Stride1D.Dense> lossTotal; // [2] compensated (Totals)
    private readonly MemoryBuffer1D<int, Stride1D.Dense> correctTotal; // [1]
    private readonly float[] hostTheta, hostGradient; // staging: [D·K + K] each
    private readonly float[] hostLoss = new float[Totals.LossLength];
    private readonly int[] hostCorrect = new int[1];
    private readonly int capacity; // rows of Z and Q: N
    private ResidentRows? scored; // the last validation rows scored, kept for the next score

    /// <param name="loss">The loss whose forward and gradient kernels run on Z (softmax cross-entropy for the host's <see cref="SoftmaxHead"/>).</param>
    /// <param name="centre">μ: [D] the scaled columns' means the model is centred on, or null (not centred).</param>
    /// <param name="lambda">λ of (λ/2)‖W‖².</param>
    public DeviceSparseObjective(Gpu gpu, ILoss loss, SparseSet train, int k, double[]? centre, double lambda)
    {
        if (train.Rows == 0)
            throw new ArgumentException("no training rows", nameof(train));
        if (centre is not null && centre.Length != train.Dim)
            throw new ArgumentException($"the centre has {centre.Length} values; the rows {train.Dim} features", nameof(centre));
        (accelerator, kernels, this.loss, this.train, d, this.k, this.centre) =
            (gpu.Accelerator, gpu.Kernels, loss, train, train.Dim, k, centre);
        penalty = new L2Penalty(lambda, new ParameterBlock(ParameterLayout.Weights, 0, [d, k]));
        capacity = train.Rows;
        var disposables = new List<IDisposable>();
        try
        {
            rows = Track(disposables, new ResidentRows(accelerator, train));
            CscCopy csc = train.Columns;
            columnStart = Track(disposables, new Resident<int>(accelerator, csc.ColumnStart));
            rowIndex = Track(disposables, new Resident<int>(accelerator, csc.Rows));
            columnValues = Track(disposables, new Resident<float>(accelerator, csc.Values));
            theta = Track(disposables, accelerator.Allocate1D<float>(Parameters));
            dTheta = Track(disposables, accelerator.Allocate1D<float>(Parameters));
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

    /// <summary>P = D·K + K.</summary>
    public long Parameters => (long)d * k + k;

    /// <summary>
    /// Device bytes the objective keeps resident for <paramref name="train"/> (and <paramref name="validation"/>, scored
    /// through the same Z) into K classes: CSR, labels and CSC copy, Z, Q/G and the row statistics for every training
    /// row, θ and dθ in float, and the validation rows' CSR and labels.
    /// </summary>
    public static long Bytes(SparseRows train, SparseRows? validation, int k) =>
        train.Bytes + 4L * train.Rows // CSR, y
        + 4L * (train.Dim + 1) + 8L * train.NonZeros // CSC
        + 2 * 4L * train.Rows * k + 8L * train.Rows // Z, Q/G, (max, log-sum)
        + 2 * 4L * ((long)train.Dim * k + k) // θ, dθ
        + (validation is null ? 0 : validation.Bytes + 4L * validation.Rows);

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
        ArrayView<float> z = Rows(logits, n, k), g = Rows(outputs, n, k);
        kernels.SparseLinear.Logits(rows.RowStart, rows.Columns, rows.Values, this.theta.View, n, d, k, z);
        loss.Forward(kernels, z, rows.Labels, ArrayView<float>.Empty, n, k, 1f / n, g, Rows(rowStats, n, 2),
            lossTotal.View, correctTotal.View);
        // G unscaled (each entry in [−1, 1]); the 1/N is applied once per sum of dθ, after its float64 accumulation.
        loss.Gradient(kernels, g, rows.Labels, ArrayView<float>.Empty, n, k, 1f);
        kernels.SparseLinear.WeightGradient(columnStart.View, rowIndex.View, columnValues.View, g, n, d, k, 1f / n, dTheta.View);
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
        if (set.Rows == 0)
            return (double.NaN, double.NaN);
        ResidentRows resident = OnDevice(set);
        LoadTheta(theta);
        for (int first = 0; first < set.Rows; first += capacity)
        {
            int count = Math.Min(capacity, set.Rows - first);
            // A block reads the set's own offsets: its entries start at the block's first (CsrLogits).
            int from = set.X.RowStart[first], entries = set.X.RowStart[first + count] - from;
            ArrayView<float> z = Rows(logits, count, k);
            kernels.SparseLinear.Logits(resident.RowStart.SubView(first, count + 1), Slice(resident.Columns, from, entries),
                Slice(resident.Values, from, entries), this.theta.View, count, d, k, z);
            loss.Forward(kernels, z, resident.Labels.SubView(first, count), ArrayView<float>.Empty, count, k, 1f / set.Rows,
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

    /// <summary>The device copy of <paramref name="set"/>: the training rows, the last set scored, or a new upload that replaces it.</summary>
    private ResidentRows OnDevice(SparseSet set)
    {
        if (ReferenceEquals(set, train))
            return rows;
        if (scored is not null && ReferenceEquals(scored.Set, set))
            return scored;
        scored?.Dispose();
        scored = null;
        return scored = new ResidentRows(accelerator, set);
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
        columnStart.Dispose();
        rowIndex.Dispose();
        columnValues.Dispose();
        theta.Dispose();
        dTheta.Dispose();
        logits.Dispose();
        outputs.Dispose();
        rowStats.Dispose();
        lossTotal.Dispose();
        correctTotal.Dispose();
    }

    /// <summary>
    /// An array on the device, in a buffer of at least one element (ILGPU 1.5.3's Allocate1D of an empty array throws);
    /// <see cref="View"/> is the array's length, empty for an empty array.
    /// </summary>
    private sealed class Resident<T> : IDisposable where T : unmanaged
    {
        private readonly MemoryBuffer1D<T, Stride1D.Dense> buffer;

        public Resident(Accelerator accelerator, T[] data)
        {
            buffer = accelerator.Allocate1D<T>(Math.Max(1, data.Length));
            View = buffer.View.SubView(0, data.Length);
            if (data.Length > 0)
                View.CopyFromCPU(data);
        }

        public ArrayView<T> View { get; }

        public void Dispose() => buffer.Dispose();
    }

    /// <summary>A sparse set on the device: its CSR rows and labels.</summary>
    private sealed class ResidentRows : IDisposable
    {
        private readonly Resident<int> rowStart, columns, labels;
        private readonly Resident<float> values;

        public ResidentRows(Accelerator accelerator, SparseSet set)
        {
            Set = set;
            rowStart = new Resident<int>(accelerator, set.X.RowStart);
            columns = new Resident<int>(accelerator, set.X.Columns);
            values = new Resident<float>(accelerator, set.X.Values);
            labels = new Resident<int>(accelerator, set.Labels);
        }

        public SparseSet Set { get; }
        /// <summary>[N + 1].</summary>
        public ArrayView<int> RowStart => rowStart.View;
        /// <summary>[nnz].</summary>
        public ArrayView<int> Columns => columns.View;
        /// <summary>[nnz].</summary>
        public ArrayView<float> Values => values.View;
        /// <summary>y: [N].</summary>
        public ArrayView<int> Labels => labels.View;

        public void Dispose()
        {
            rowStart.Dispose();
            columns.Dispose();
            values.Dispose();
            labels.Dispose();
        }
    }
}
