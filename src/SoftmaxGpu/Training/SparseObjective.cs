using System.Runtime.InteropServices;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Kernels.Host;

namespace SoftmaxGpu.Training;

/// <summary>
/// J(θ) = mean head loss + (λ/2)‖W‖² over sparse rows on the host engine (<see cref="SparseHostStep"/>), for
/// θ = [Wᵀ (D·K) | b (K)] — Wᵀ so that each non-zero touches K consecutive weights. Its device counterpart is
/// <see cref="DeviceSparseObjective"/>.
///
/// Centring without filling the zeros: with μ_j the column means over the std (the scaled rows' means), the model
/// on centred rows is z = W·(x − μ) + b = W·x + (b − W·μ); so the pass runs on the uncentred CSR rows with the bias
/// b′ = b − W·μ, and the gradient follows: ∂J/∂W[c, j] = (Gᵀ·X)[j, c] − μ_j·∂J/∂b_c (<see cref="SparseCentring"/>).
/// Both corrections cost O(D·K), nothing per row, and L-BFGS sees the same, well-conditioned, centred problem as on
/// dense data (on uncentred columns it crawls). μ = 0 (scaling without centring, or none) is the plain objective on
/// the rows as given.
/// </summary>
public sealed class SparseObjective<THead> : ISparseObjective
    where THead : struct, IHead
{
    private readonly SparseSet rows;
    private readonly int k;
    private readonly double[]? centre;
    private L2Penalty penalty;
    private readonly SparseHostStep.Buffers buffers; // Z, then G, for the training rows' passes
    private float[]? weights; // Wᵀ [D, K] in float, for scoring (made on first use)
    private readonly float[] bias; // b′ = b − W·μ [K], for scoring
    private readonly Distributed.ICommunicator ranks;
    private readonly long totalRows;

    /// <param name="rows">The training rows: all of them, or this rank's shard (<paramref name="ranks"/>).</param>
    /// <param name="centre">μ: [D] the scaled columns' means the model is centred on, or null (not centred).</param>
    /// <param name="lambda">λ of (λ/2)‖W‖².</param>
    /// <param name="ranks">The processes sharing the rows: each computes its shard's sums, which are added over the
    /// ranks (one all-reduce of ∇ per evaluation) before the centring and the penalty, so every rank has the same J and ∇J.</param>
    /// <param name="totalRows">N over every rank (null: this set's rows).</param>
    public SparseObjective(SparseSet rows, int k, double[]? centre, double lambda, Distributed.ICommunicator? ranks = null,
        long? totalRows = null)
    {
        (this.rows, this.k, this.centre) = (rows, k, centre);
        this.ranks = ranks ?? Distributed.SingleProcess.Instance;
        this.totalRows = totalRows ?? rows.Rows;
        penalty = new L2Penalty(lambda, new ParameterBlock(ParameterLayout.Weights, 0, [rows.Dim, k]));
        bias = new float[k];
        buffers = new SparseHostStep.Buffers(rows.Rows, k);
    }

    public double Lambda
    {
        get => penalty.Lambda;
        set => penalty = penalty with { Lambda = value };
    }

    /// <summary>P = D·K + K.</summary>
    public long Parameters => (long)rows.Dim * k + k;

    /// <summary>J(θ), a new ∇J(θ), and the mean loss and accuracy behind them (tests).</summary>
    public (double J, double[] Gradient, double Loss, double Accuracy) Evaluate(double[] theta)
    {
        var gradient = new double[Parameters];
        (double j, double loss, double accuracy) = Evaluate(theta, gradient);
        return (j, gradient, loss, accuracy);
    }

    /// <summary>
    /// One pass over the rows. In one process the pass reads θ in float64 and folds the centring and the penalty into
    /// each row of ∇ as it writes it (<see cref="SparseHostStep.Model"/>); across ranks it writes its shard's sums,
    /// which are added over the ranks before the centring and the penalty are applied to the total.
    /// </summary>
    public unsafe (double J, double Loss, double Accuracy) Evaluate(double[] theta, double[] gradient)
    {
        if (theta.Length != Parameters || gradient.Length != Parameters)
            throw new ArgumentException($"θ and ∇ need {Parameters} values; got {theta.Length} and {gradient.Length}");
        bool alone = ranks.Size == 1;
        (double loss, int correct, double squares) = (0, 0, 0);
        PinnedRows pins = new(rows);
        try
        {
            fixed (double* t = theta, mu = centre, g = gradient)
            fixed (float* y = rows.Targets)
            fixed (int* labels = rows.Labels)
            {
                var targets = new HostStep.Batch(null, null, labels, y, rows.Rows, rows.Dim, k);
                var model = new SparseHostStep.Model(t, mu, 1.0 / totalRows, alone ? penalty.Lambda : 0, uncentre: alone);
                (loss, correct, squares) = SparseHostStep.Gradient<THead>(pins.Csr, pins.Csc, targets, model, buffers, g);
            }
        }
        finally
        {
            pins.Dispose();
        }
        if (alone)
            return (loss / totalRows + penalty.Of(squares), loss / totalRows, (double)correct / totalRows);
        ranks.Sum(gradient);
        Span<double> totals = [loss, correct];
        ranks.Sum(totals);
        (loss, correct) = (totals[0], (int)totals[1]);
        Uncentre(gradient);
        double mean = loss / totalRows;
        return (penalty.AddTo(mean, theta, gradient), mean, (double)correct / totalRows);
    }

    /// <summary>Mean loss and accuracy of <paramref name="set"/> (validation rows) under θ, without a gradient: against its
    /// target rows where it has them (multi-label tag sets), else its labels.</summary>
    public unsafe (double Loss, double Accuracy) Score(double[] theta, SparseSet set)
    {
        SparseTraining.RequireTags(typeof(THead) == typeof(SigmoidHead), set, nameof(set));
        Load(theta);
        var pins = new PinnedRows(set, withColumns: false);
        try
        {
            fixed (float* wt = weights!, b = bias, y = set.Targets)
            fixed (int* labels = set.Labels)
            {
                var targets = new HostStep.Batch(null, null, labels, y, set.Rows, set.Dim, k);
                (double loss, int correct) = SparseHostStep.Forward<THead>(pins.Csr, targets, wt, b, withLoss: true, null);
                return (loss / set.Rows, (double)correct / set.Rows);
            }
        }
        finally
        {
            pins.Dispose();
        }
    }

    /// <summary>Wᵀ ← θ's weights in float; b′ ← b − W·μ (<see cref="SparseCentring.Load"/>).</summary>
    private void Load(double[] theta) =>
        SparseCentring.Load(theta, centre, rows.Dim, k, weights ??= new float[(long)rows.Dim * k], bias);

    /// <summary>∂J/∂Wᵀ[j, c] −= μ_j·∂J/∂b_c: the gradient through b′ = b − W·μ (<see cref="SparseCentring.Uncentre"/>).</summary>
    private void Uncentre(double[] gradient) => SparseCentring.Uncentre(gradient, centre, rows.Dim, k);

    /// <summary>Nothing to free: the pass's buffers are managed arrays.</summary>
    public void Dispose()
    {
    }

    /// <summary>The set's CSR (and CSC) arrays pinned for one pass.</summary>
    private unsafe sealed class PinnedRows : IDisposable
    {
        private readonly GCHandle[] handles;

        public PinnedRows(SparseSet set, bool withColumns = true)
        {
            Data.SparseRows x = set.X;
            var pinned = new List<GCHandle> { Pin(x.RowStart), Pin(x.Columns), Pin(x.Values) };
            Csr = new SparseHostStep.Csr(Address<int>(pinned[0]), Address<int>(pinned[1]), Address<float>(pinned[2]), x.Rows, x.Dim);
            if (withColumns)
            {
                Kernels.Sparse.CscCopy xt = set.Columns;
                pinned.AddRange([Pin(xt.ColumnStart), Pin(xt.Rows), Pin(xt.Values)]);
                Csc = new SparseHostStep.Csc(Address<int>(pinned[3]), Address<int>(pinned[4]), Address<float>(pinned[5]));
            }
            handles = [.. pinned];
        }

        public SparseHostStep.Csr Csr { get; }
        public SparseHostStep.Csc Csc { get; }

        private static GCHandle Pin(Array array) => GCHandle.Alloc(array, GCHandleType.Pinned);

        private static T* Address<T>(GCHandle handle) where T : unmanaged => (T*)handle.AddrOfPinnedObject();

        public void Dispose()
        {
            foreach (GCHandle handle in handles)
                handle.Free();
        }
    }
}
