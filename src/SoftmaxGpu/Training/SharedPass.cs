using System.Buffers;
using SoftmaxGpu.Data;
using SoftmaxGpu.Kernels.Host;

namespace SoftmaxGpu.Training;

/// <summary>
/// Many models, one pass over the rows, on the host engine: the m fold models of a cross-validation share the rows
/// of one set, each learning from the rows outside its own fold (or, <see cref="Alone"/>, each in passes of its own over
/// the same copy, where stacking gains nothing: <see cref="Stacks"/>). Each model runs its own L-BFGS (its state, line
/// search and λ) on its own thread against <see cref="For"/>'s objective; an evaluation waits until every model
/// still running has asked for one (a rendezvous), and then one pass computes all of them: Z = X·[W_0; …; W_{m−1}]ᵀ
/// + b, m·K logits a row, each model's head on its block of K, its block of G zero on its held-out rows
/// (<see cref="HostStep.Stack"/>). The cost of a pass is reading X and the products; m models read X once, and the
/// stacked product [m·K, D] takes the host engine's faster many-class path where K alone would not. Where most of each
/// column is one value (pixels, counts, one-hot columns — standardized or not), the passes read the rows as their sparse
/// difference from it (<see cref="ShiftedCsr"/>), so the products cost those entries rather than N·D. A small softmax
/// model fits with Newton instead, its float64 objective over the same copy (<see cref="Exact"/>).
///
/// Rows too large for memory (a .sgd file, <see cref="IRowSource"/>) share the passes too: a round reads the source once,
/// block by block, each block's rows taken fold by fold (<see cref="HostStep.Batch.Order"/>), and sums the blocks'
/// gradients in float64 (<see cref="StreamedRows"/>); every fold's model reads the file once a round rather than once
/// each.
///
/// Deterministic: a round evaluates exactly the models still running, in model order, so each model's sequence of
/// θ, and with it every round's members, is the same in every run; a model's J is that of its single fit on the same
/// rows up to float rounding (the sums run in another order), so it reaches the same optimum.
/// </summary>
public sealed class SharedPass
{
    private readonly EncodedSet? set; // in memory: the rows fold by fold (each fold's in their order), as the pass reads them
    private readonly ShiftedCsr? shifted; // the same rows as a sparse difference, which the passes read where they are sparse enough
    private readonly StreamedRows? streamed; // or the rows read from a source a block at a time, once a round
    private readonly int k, dim;
    private readonly long n; // N: every row
    private readonly ILoss loss;
    private readonly int folds;
    private readonly int[] foldAt; // [N] the fold of each row of the set (in memory: non-decreasing; streamed: as the source has them)
    private readonly int[] foldStart; // [folds + 1] where each fold's rows start in the set (in memory)
    private readonly long[] trainRows; // per model: N_i, the rows it learns from
    private readonly double[] mass; // per model: what its summed loss is divided by (N_i; M_i, its targets' sum, for weighted rows)
    private readonly double? weightSum; // Σw of every row (weighted rows), from which each model's Σw is its share
    private readonly bool tags; // tag sets (the sigmoid head): held-out rows are scored by their tags, not their class
    private readonly object gate = new();
    private readonly bool[] running;
    private readonly Request?[] requests;
    private long round; // rounds run so far: a waiting model's request is answered when this moves on
    private float[]? roundThetas, roundGrad; // a round's θ of every fold and ∇ (the rounds run one at a time, under the gate)
    private Exception? failure; // a round that threw: every model waiting on it throws too

    /// <summary>One model's evaluation: θ in, ∇ (of the mean loss) and the sums out.</summary>
    private sealed class Request(double[] theta, double[] gradient)
    {
        public double[] Theta => theta;
        public double[] Gradient => gradient;
        public double Loss { get; set; }
        public double Accuracy { get; set; }
    }

    /// <param name="set">Every row, standardized, with class indices, and target rows where a single fit has them (class
    /// and sample weights, smoothing, probability targets), or tag sets for the sigmoid head.</param>
    /// <param name="options">The fit's options: its loss, and Σw of every row for weighted rows (<see cref="TrainOptions.WeightSum"/>).</param>
    /// <param name="foldOfRow">[N] each row's fold; model i learns from the rows outside fold i.</param>
    /// <param name="models">m: one per fold.</param>
    public SharedPass(EncodedSet set, int k, TrainOptions options, int[] foldOfRow, int models)
    {
        if (options.WeightSum is not null && set.Targets is null)
            throw new ArgumentException("weighted rows carry their weights in target rows");
        (this.k, loss, weightSum, tags, dim, n) = (k, options.Loss, options.WeightSum, FoldRows.Tags(options), set.Dim, set.Rows);
        folds = foldOfRow.Max() + 1;
        // A copy of the rows in fold order, read in sequence (X is read in order: rows gathered in a shuffled order run slower).
        int[] order = [.. Enumerable.Range(0, set.Rows).OrderBy(r => foldOfRow[r])]; // a stable sort
        var features = new float[(long)set.Rows * set.Dim];
        var labels = new int[set.Rows];
        float[]? targets = set.Targets is null ? null : new float[(long)set.Rows * set.TargetWidth];
        set.Gather(order, new RowBlock(features, labels, targets));
        this.set = new EncodedSet(features, labels, targets, set.Rows, set.Dim);
        // Shifted rows where the pass stacks: measured there (MNIST, 40 logits a row: the products 1.6–1.9× faster at density
        // 0.19); a pass of one model's few logits is not.
        shifted = Stacks(k, set.Dim, models) ? ShiftedCsr.Find(features, set.Rows, set.Dim) : null;
        foldAt = [.. order.Select(r => foldOfRow[r])];
        foldStart = [.. Enumerable.Range(0, folds + 1).Select(f => Array.FindIndex(foldAt, at => at >= f) is int i and >= 0 ? i : set.Rows)];
        trainRows = [.. Enumerable.Range(0, models).Select(f => (long)set.Rows - (foldStart[f + 1] - foldStart[f]))];
        // A weighted model's mean loss is over its rows' weights, M_i (FoldRows: its targets scaled by N_i/M_i, over N_i).
        double[] foldMass = [.. Enumerable.Range(0, folds).Select(f => targets is null || weightSum is null ? 0
            : FoldRows.Sum(targets.AsSpan(foldStart[f] * k, (foldStart[f + 1] - foldStart[f]) * k)))];
        mass = [.. Enumerable.Range(0, models).Select(i => weightSum is null ? trainRows[i] : foldMass.Where((_, f) => f != i).Sum())];
        running = Enumerable.Repeat(true, models).ToArray();
        requests = new Request?[models];
    }

    /// <summary>
    /// The fold models over rows read from <paramref name="rows"/> a block at a time, once a round (<see cref="StreamedRows"/>):
    /// the passes <see cref="For"/> gives; not <see cref="Exact"/>, which needs the rows in memory.
    /// </summary>
    /// <param name="rows">Every row as it is fitted: standardized, with target rows where a single fit has them (class and
    /// sample weights, smoothing, probability targets), or tag sets for the sigmoid head.</param>
    /// <param name="labels">[N] every row's class index, which the head and the held-out rows read (zeros for tag sets).</param>
    public SharedPass(IRowSource rows, int[] labels, int k, TrainOptions options, int[] foldOfRow, int models)
    {
        if (options.WeightSum is not null && rows.TargetWidth == 0)
            throw new ArgumentException("weighted rows carry their weights in target rows");
        (this.k, loss, weightSum, tags, dim, n) = (k, options.Loss, options.WeightSum, FoldRows.Tags(options), rows.Dim, rows.Rows);
        folds = foldOfRow.Max() + 1;
        foldAt = foldOfRow;
        foldStart = [];
        streamed = new StreamedRows(rows, labels, foldOfRow, folds, options.StreamBlockRows);
        long[] foldRows = [.. Enumerable.Range(0, folds).Select(f => (long)foldOfRow.Count(at => at == f))];
        trainRows = [.. Enumerable.Range(0, models).Select(f => n - foldRows[f])];
        double[] foldMass = weightSum is null ? new double[folds] : streamed.FoldMass();
        mass = [.. Enumerable.Range(0, models).Select(i => weightSum is null ? trainRows[i] : foldMass.Where((_, f) => f != i).Sum())];
        running = Enumerable.Repeat(true, models).ToArray();
        requests = new Request?[models];
    }

    /// <summary>
    /// Model <paramref name="model"/>'s fit options: those of a single fit on its rows (weighted rows: its share of Σw,
    /// so λ = 1/(C·Σ_i w), as <see cref="FoldRows"/> gives a fold in a session).
    /// </summary>
    public TrainOptions Options(int model, TrainOptions options) => weightSum is double sum
        ? FoldRows.FoldWeights(trainRows[model], mass[model], n, sum, options).Options
        : options;

    /// <summary>
    /// Whether <paramref name="folds"/> fold models of <paramref name="k"/> classes are faster in stacked passes than each
    /// in passes of its own: where the (folds − 1)·K logits a tile computes go through the tile's Xᵀ
    /// (<see cref="HostStep.TransposedClasses"/>) and no horizontal sums. Below, the rendezvous costs more than the
    /// stack saves: measured on this project's 2-core machine, a 10-value 5-fold search on letter (K = 26) 13.1–14.6 s
    /// stacked against 16.3–16.6 s fold by fold; satimage (K = 6) 5.0–5.2 s both; wine (K = 3) in the whole process
    /// 0.67 s stacked against 0.48 s (medians of 5). And only where a round's θ of every fold, folds·m·P floats (m = folds),
    /// is at most <see cref="MaxStackedFloats"/>: many folds of a model (leave-one-out) fit side by side instead, each in
    /// passes of its own, rather than hold folds² copies of θ.
    /// </summary>
    public static bool Stacks(int k, int dim, int folds) =>
        (long)(folds - 1) * k >= HostStep.TransposedClasses && (long)folds * folds * ((long)k * dim + k) <= MaxStackedFloats;

    /// <summary>Most floats of a stacked round's θ (64 MiB): 5 folds of a model of up to 671,088 parameters.</summary>
    public const long MaxStackedFloats = 1L << 24;

    /// <summary>Whether the passes read the rows as a sparse difference from each column's commonest value (<see cref="ShiftedCsr"/>).</summary>
    public bool ReadsShiftedRows => shifted is not null;

    /// <summary>m: the models sharing the pass.</summary>
    public int Models => running.Length;

    /// <summary>P = K·D + K: one model's parameters.</summary>
    public int Parameters => k * dim + k;

    /// <summary>N_i: the rows model <paramref name="model"/> learns from (every row outside its fold).</summary>
    public long TrainRows(int model) => trainRows[model];

    /// <summary>Model <paramref name="model"/>'s objective J = its mean loss + (λ/2)‖W‖², evaluated in the shared passes.</summary>
    public IObjective For(int model, double lambda) =>
        new Member(this, model, new L2Penalty(lambda, ParameterLayout.Linear(k, dim)[ParameterLayout.Weights]));

    /// <summary>
    /// Model <paramref name="model"/>'s objective evaluated in passes of its own (over the rows it learns from), on the
    /// caller's thread, with no rendezvous: models fitted side by side on their own threads (<see cref="CrossValidation"/>).
    /// Its J is that of <see cref="For"/>'s up to float rounding; it never waits for, and is never waited for by, another.
    /// </summary>
    public IObjective Alone(int model, double lambda) =>
        new Single(this, model, new L2Penalty(lambda, ParameterLayout.Linear(k, dim)[ParameterLayout.Weights]));

    /// <summary>
    /// Model <paramref name="model"/>'s objective in float64 with its Hessian, over the rows it learns from (the set's two
    /// ranges outside its fold), for Newton (<see cref="NewtonOptimizer"/>); its J is <see cref="For"/>'s up to float rounding.
    /// </summary>
    public ExactSoftmaxObjective Exact(int model, double lambda)
    {
        if (set is null)
            throw new InvalidOperationException("Newton's exact objective needs the rows in memory");
        int held = foldStart[model], after = foldStart[model + 1];
        return new ExactSoftmaxObjective(set, k, mass[model], lambda, [(0, held), (after, set.Rows - after)]);
    }

    /// <summary>Model <paramref name="model"/> asks for no more evaluations; the others no longer wait for it.</summary>
    public void Leave(int model)
    {
        lock (gate)
        {
            running[model] = false;
            RunIfAllWaiting();
        }
    }

    /// <summary>
    /// Mean loss and accuracy of model <paramref name="model"/>'s held-out rows (its fold) under θ = [W (K·D) | b (K)]: by
    /// their class alone (unweighted), or by their tags (<see cref="FoldRows.HeldOut(EncodedSet, int[], int, TrainOptions)"/>).
    /// </summary>
    public unsafe (double Loss, double Accuracy) Score(int model, float[] theta)
    {
        if (streamed is not null)
            return streamed.Score(loss, model, theta, k, tags);
        int first = foldStart[model], rows = foldStart[model + 1] - first;
        var logits = new float[(long)rows * k];
        var outputs = new float[logits.Length];
        var rowStats = new float[2L * rows];
        fixed (float* x = set!.Features, t = theta, z = logits, q = outputs, stats = rowStats, targets = set.Targets)
        fixed (int* labels = set.Labels)
        {
            var batch = new HostStep.Batch(x + (long)first * dim, null, labels + first, tags ? targets + (long)first * k : null,
                rows, dim, k);
            (double sum, int correct) = loss.HostForward(batch, t, withLoss: true, z, q, stats);
            return (sum / rows, (double)correct / rows);
        }
    }

    /// <summary>Waits for the round that evaluates <paramref name="theta"/> (run by whichever model arrives last).</summary>
    private (double Loss, double Accuracy) Evaluate(int model, double[] theta, double[] gradient)
    {
        lock (gate)
        {
            if (!running[model])
                throw new InvalidOperationException($"model {model} has left the shared pass");
            var request = requests[model] = new Request(theta, gradient);
            long mine = round;
            RunIfAllWaiting();
            while (round == mine)
                Monitor.Wait(gate);
            if (failure is not null)
                throw new InvalidOperationException("a shared pass over the rows failed", failure);
            return (request.Loss, request.Accuracy);
        }
    }

    /// <summary>Runs a round when every running model has a request waiting (under the gate).</summary>
    private void RunIfAllWaiting()
    {
        int[] members = [.. Enumerable.Range(0, Models).Where(i => running[i])];
        if (members.Length == 0 || members.Any(i => requests[i] is null))
            return;
        try
        {
            Run(members);
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            Array.Clear(requests);
            round++;
            Monitor.PulseAll(gate);
        }
    }

    /// <summary>
    /// A round of the stacked passes (under the gate), into buffers it keeps for the next: whichever model's thread arrives
    /// last runs it, and an array rented on each of m threads would stay cached on each (m copies of folds·m·P floats).
    /// </summary>
    private void Run(int[] members)
    {
        long p = Parameters;
        roundThetas ??= new float[folds * Models * p];
        roundGrad ??= new float[Models * p];
        Run(members, [.. members.Select(model => requests[model]!)], roundThetas, roundGrad);
    }

    /// <summary>
    /// One pass for <paramref name="members"/>' requests <paramref name="asked"/>, stacked in model order; the rows of
    /// fold f are computed for the members that learn from them, θ^(f) = [W | b] of those members (<see cref="HostStep.Stack"/>).
    /// A model in passes of its own (<see cref="Single"/>, on one of a core's threads) rents its buffers.
    /// </summary>
    private void Run(int[] members, Request[] asked)
    {
        int m = members.Length, d = dim;
        long kd = (long)k * d, p = kd + k;
        // Rented, not allocated: a round's θ and ∇ are large objects, whose fresh pages cost a round their zeroing.
        float[] thetas = ArrayPool<float>.Shared.Rent((int)(folds * m * p)); // θ^(f) for each fold f, each in m·P floats
        float[] grad = ArrayPool<float>.Shared.Rent((int)(m * p)); // [dW_0 … dW_{m−1} | db_0 … db_{m−1}]
        try
        {
            Run(members, asked, thetas, grad);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(thetas);
            ArrayPool<float>.Shared.Return(grad);
        }
    }

    /// <summary><see cref="Run(int[], Request[])"/> into θ and ∇ buffers of (at least) folds·m·P and m·P floats.</summary>
    private unsafe void Run(int[] members, Request[] asked, float[] thetas, float[] grad)
    {
        int m = members.Length, d = dim;
        long kd = (long)k * d, p = kd + k;
        for (int f = 0; f < folds; f++)
        {
            double[][] learning = [.. members.Select((model, s) => (model, s)).Where(member => member.model != f)
                .Select(member => asked[member.s].Theta)];
            long offset = f * m * p, bias = offset + learning.Length * kd;
            for (int s = 0; s < learning.Length; s++)
            {
                double[] own = learning[s];
                for (long i = 0; i < kd; i++)
                    thetas[offset + s * kd + i] = (float)own[i];
                for (int c = 0; c < k; c++)
                    thetas[bias + s * k + c] = (float)own[kd + c];
            }
        }
        float[] scales = [.. members.Select(model => (float)(1 / mass[model]))];
        var sums = new double[m];
        var correct = new int[m];
        float** foldTheta = stackalloc float*[folds];
        fixed (float* t = thetas)
        fixed (int* held = members)
        {
            for (int f = 0; f < folds; f++)
                foldTheta[f] = t + f * m * p;
            if (streamed is not null)
                streamed.Gradient(loss, m, held, foldTheta, scales, grad.AsSpan(0, (int)(m * p)), sums, correct, k);
            else
                fixed (float* x = set!.Features, targets = set.Targets)
                fixed (int* labels = set.Labels, at = foldAt)
                {
                    var batch = new HostStep.Batch(x, null, labels, targets, set.Rows, d, k, shifted?.Pointers() ?? default);
                    loss.HostGradient(batch, new HostStep.Stack(m, held, at, foldTheta), null, scales, grad, sums, correct);
                }
        }
        for (int s = 0; s < m; s++)
        {
            Request request = asked[s];
            for (long i = 0; i < kd; i++)
                request.Gradient[i] = grad[s * kd + i];
            for (int c = 0; c < k; c++)
                request.Gradient[kd + c] = grad[m * kd + s * k + c];
            request.Loss = sums[s] / mass[members[s]];
            request.Accuracy = (double)correct[s] / trainRows[members[s]];
        }
    }

    /// <summary>One model in passes of its own, as L-BFGS sees its objective.</summary>
    private sealed class Single(SharedPass pass, int model, L2Penalty penalty) : IObjective
    {
        public (double J, double Loss, double Accuracy) Evaluate(double[] theta, double[] gradient)
        {
            var request = new Request(theta, gradient);
            pass.Run([model], [request]);
            return (penalty.AddTo(request.Loss, theta, gradient), request.Loss, request.Accuracy);
        }
    }

    /// <summary>One model's view of the shared passes, as L-BFGS sees its objective.</summary>
    private sealed class Member(SharedPass pass, int model, L2Penalty penalty) : IObjective
    {
        public (double J, double Loss, double Accuracy) Evaluate(double[] theta, double[] gradient)
        {
            (double mean, double accuracy) = pass.Evaluate(model, theta, gradient);
            return (penalty.AddTo(mean, theta, gradient), mean, accuracy);
        }
    }
}
