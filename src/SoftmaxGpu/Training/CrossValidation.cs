using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;

namespace SoftmaxGpu.Training;

/// <summary>What a path over C is scored by on each held-out fold.</summary>
public enum PathScore
{
    /// <summary>The fraction of held-out rows predicted right: scikit-learn's LogisticRegressionCV's default.</summary>
    Accuracy,
    /// <summary>The mean cross-entropy of the held-out rows (lower is better).</summary>
    LogLoss,
}

/// <summary>How the fold models of a cross-validation evaluate their objectives.</summary>
public enum FoldPasses
{
    /// <summary>Each fold a <see cref="TrainingSession"/> of its own (any device, any rows), its fits one after another.</summary>
    Sessions,
    /// <summary>On the host engine, every fold model in each pass over the rows (<see cref="SharedPass.For"/>): one product
    /// with the models' stacked weights.</summary>
    Stacked,
    /// <summary>On the host engine, each fold model in passes of its own over the shared rows (<see cref="SharedPass.Alone"/>),
    /// one fold per core at a time, none waiting for another.</summary>
    SideBySide,
}

/// <summary>What a <see cref="PathScore"/> is called where it is printed.</summary>
public static class PathScoreNames
{
    /// <summary>accuracy (subset accuracy for multi-label rows: a row counts when every tag is right), or log-loss.</summary>
    public static string Name(this PathScore score, bool multiLabel) =>
        score == PathScore.LogLoss ? "log-loss" : multiLabel ? "subset accuracy" : "accuracy";
}

/// <summary>
/// What the values of a path are: C, the inverse penalty of scikit-learn's LogisticRegressionCV (λ = 1/(C·N) over each
/// fit's own rows, 1/(C·Σw) with weights), or the weight decay λ itself (--weight-decay: the same λ on every fold).
/// </summary>
public enum PathPenalty
{
    C,
    WeightDecay,
}

/// <summary>A <see cref="PathPenalty"/>'s names, its fits' options and its order (the strongest penalty first).</summary>
public static class PathPenalties
{
    /// <summary>The values where they are printed: C, or weight decay.</summary>
    public static string Name(this PathPenalty penalty) => penalty == PathPenalty.C ? "C" : "weight decay";

    /// <summary>The option that gives them: --C or --weight-decay.</summary>
    public static string Option(this PathPenalty penalty) => penalty == PathPenalty.C ? "--C" : "--weight-decay";

    /// <summary>As the model file records them (<see cref="Model.ModelSelection.Parameter"/>): C or weight-decay.</summary>
    public static string FileName(this PathPenalty penalty) => penalty == PathPenalty.C ? "C" : "weight-decay";

    /// <summary>
    /// The options of one fit of a path at <paramref name="value"/>: C (λ from the fit's rows, <see cref="TrainPlan.Lambda"/>)
    /// or the weight decay, as a single fit given that value would have them.
    /// </summary>
    public static TrainOptions At(this TrainOptions options, double value) =>
        options.PathPenalty == PathPenalty.C
            ? options with { C = value, WeightDecay = null }
            : options with { WeightDecay = (float)value, C = null };

    /// <summary>Where a path starts, the strongest penalty, and which way it walks: C ascending, weight decay descending.</summary>
    internal static double[] StrongestFirst(this PathPenalty penalty, IEnumerable<double> values) =>
        penalty == PathPenalty.C ? [.. values.Order()] : [.. values.OrderDescending()];

    /// <summary>Which value wins a tie of scores, in words: the strongest penalty of the tied ones.</summary>
    public static string AmongEquals(this PathPenalty penalty) =>
        penalty == PathPenalty.C ? "the smallest C among equals" : "the largest weight decay among equals";
}

/// <summary>
/// One value of a path (a C, or a weight decay: <see cref="PathPenalty"/>): its score on each fold, their mean and
/// spread, each fold's training objective J at its optimum,
/// the iterations each fold took, and which folds' fits stopped at the iteration cap before their convergence rule
/// (their J may be short of the optimum, and their score off the optimum's).
/// </summary>
public sealed record PathPoint(double Value, double[] Scores, double[] Objectives, int[] Iterations, bool[] Capped)
{
    /// <summary>The value with its fold scores, as the model file keeps it (<see cref="Model.SelectionRow"/>).</summary>
    public Model.SelectionRow Row => new(Value, Scores);
    public double Mean => Row.Mean;
    /// <summary>The population standard deviation of the fold scores.</summary>
    public double Spread => Row.Spread;
}

/// <summary>
/// One fit of a path as it ends (<see cref="TrainOptions.OnPathFit"/>): the value and its place in the grid (the walk's order), the
/// fold (0 where one validation set scores the path), the held-out score, the training objective J, the iterations,
/// and whether the fit met its convergence rule (false: it stopped at the iteration cap).
/// </summary>
public sealed record PathFit(int Index, double Value, int Fold, double Score, double Objective, int Iterations, bool Converged);

/// <summary>A path's outcome: every value's point (in the walk's order), the chosen value, and the model refit on every training row at it.</summary>
public sealed record PathResult(IReadOnlyList<PathPoint> Points, double Chosen, PathScore Score, TrainResult Refit)
{
    /// <summary>What the values are: C (the default), or weight decays.</summary>
    public PathPenalty Penalty { get; init; }

    /// <summary>What the model file keeps of the path (<see cref="Model.ModelSelection"/>); <paramref name="folds"/> 0: a validation set.</summary>
    public Model.ModelSelection Selection(int folds) =>
        new(Score == PathScore.Accuracy ? "accuracy" : "log-loss", folds, Chosen,
            [.. Points.Select(p => p.Row)]) { Parameter = Penalty.FileName() };
}

/// <summary>
/// Choosing C by K-fold cross-validation, as scikit-learn's LogisticRegressionCV: the rows are dealt to K stratified
/// folds (<see cref="Split.StratifiedFolds"/>); each fold's model fits every C on the rows outside the fold, from the
/// strongest penalty to the weakest, each fit warm-started from the previous one's θ, with λ = 1/(C·N_fold) as a
/// single fit on those rows would have; the held-out rows score each fit. On the host engine the K fold models share
/// one copy of the rows (<see cref="SharedPass"/>), each with its own L-BFGS (Newton for a small softmax model:
/// <see cref="NewtonOptimizer.Chosen"/>, each fold in passes of its own) on a thread of its own: where stacking
/// their weights makes the product faster (<see cref="SharedPass.Stacks"/>) one pass a round computes them all, else
/// each fold runs its own passes, one fold per core at a time (<see cref="FoldPasses"/>); elsewhere each fold is one
/// <see cref="TrainingSession"/> holding its rows (uploaded once), its fits one after another. The C with the best mean
/// score is chosen (the smallest C among equals) and refit on every row.
/// Sparse rows take the same path through <see cref="SparseCrossValidation"/>, into the same <see cref="PathResult"/>.
/// Every head and target row kind in memory takes it (<see cref="FoldRows"/>: multi-label rows in unstratified folds,
/// weighted rows reweighted over each fold, tag sets scored by their tags). Rows read in blocks (a dense .sgd file) are
/// read whole on the host engine where they fit memory four times over, and share the passes as rows in memory do; elsewhere they walk
/// fold by fold, each fold's rows read from the source as they stream (<see cref="RowSubset"/>).
/// </summary>
public static class CrossValidation
{
    /// <summary>
    /// --C as written: one value, a comma-separated list, or a log-spaced range <c>low:high:count</c> (count values from
    /// low to high, both included, evenly spaced in log C: <c>1e-4:1e4:10</c> is scikit-learn's <c>Cs=10</c> grid).
    /// </summary>
    public static double[] ParseGrid(string text, PathPenalty penalty = PathPenalty.C)
    {
        string option = penalty.Option();
        string[] range = text.Split(':', StringSplitOptions.TrimEntries);
        if (range.Length == 3)
        {
            double low = Number(range[0], text, option), high = Number(range[1], text, option);
            if (!int.TryParse(range[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int count) || count < 2)
                throw new ArgumentException($"{option} {text}: a range is low:high:count with a count of at least 2");
            if (!(low > 0) || !(high > low) || !double.IsFinite(high))
                throw new ArgumentException($"{option} {text}: a range needs 0 < low < high");
            return AsGiven(penalty, Enumerable.Range(0, count).Select(i => Math.Exp(Math.Log(low) + i * (Math.Log(high) - Math.Log(low)) / (count - 1))));
        }
        if (range.Length != 1)
            throw new ArgumentException($"{option} {text}: give one value, values separated by commas, or a range low:high:count");
        return AsGiven(penalty, text.Split(',', StringSplitOptions.TrimEntries).Select(value => Number(value, text, option)));
    }

    /// <summary>The values as the fits take them: C in float64; a weight decay in float, as --weight-decay's λ is.</summary>
    private static double[] AsGiven(PathPenalty penalty, IEnumerable<double> values) =>
        penalty == PathPenalty.C ? [.. values] : [.. values.Select(AsFloat)];

    /// <summary>A weight decay as a float: one a float holds only as 0 or ∞ is an error (no penalty, or a NaN fit).</summary>
    private static double AsFloat(double value)
    {
        float single = (float)value;
        if (double.IsFinite(value) && value != 0 && (single == 0 || float.IsInfinity(single)))
            throw new ArgumentException($"--weight-decay {value:G6} is {(single == 0 ? "0" : "infinite")} as a float, the λ the fits " +
                                        $"take; give a value from {float.Epsilon:G2} to {float.MaxValue:G3}");
        return single;
    }

    private static double Number(string value, string text, string option) =>
        !double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double c)
            ? throw new ArgumentException($"{option} {text}: '{value}' is not a number")
            : double.IsInfinity(c) && !value.Contains("inf", StringComparison.OrdinalIgnoreCase) && !value.Contains('∞')
                ? throw new ArgumentException($"{option} {text}: '{value}' is beyond the range of a double")
                : c;

    /// <summary>
    /// The grid checked by name — at least one value, each finite and &gt; 0, none twice — in the order the path walks it,
    /// the strongest penalty first (<see cref="PathPenalties.StrongestFirst"/>).
    /// </summary>
    public static double[] CheckGrid(IReadOnlyCollection<double> values, PathPenalty penalty = PathPenalty.C)
    {
        string option = penalty.Option();
        if (values.Count == 0)
            throw new ArgumentException($"{option} needs at least one value");
        foreach (double value in values)
            if (!(value > 0) || !double.IsFinite(value))
                throw new ArgumentException($"{option} values must be finite and > 0, got {value}" +
                                            (penalty == PathPenalty.WeightDecay && value == 0 ? " (no penalty: give --weight-decay 0 alone)" : ""));
        if (values.Distinct().Count() != values.Count)
            throw new ArgumentException($"{option} names a value twice");
        return penalty.StrongestFirst(values);
    }

    /// <summary>Runs the path over <paramref name="cs"/> with <paramref name="folds"/> folds and refits at the chosen C.</summary>
    /// <param name="options">L-BFGS settings for every fit; its C and weight decay are the path's.</param>
    /// <param name="onEpoch">Reports the refit's iterations (the folds' fits run quietly).</param>
    /// <param name="passes">How the folds' fits evaluate their objectives (<see cref="FoldPasses"/>); null: stacked or
    /// side by side where they can be (<see cref="CanShare"/>, <see cref="SharedPass.Stacks"/>), else in sessions.</param>
    public static PathResult Run(Gpu gpu, EncodedSet set, int k, IReadOnlyCollection<double> cs, int folds, PathScore score,
        TrainOptions options, Action<EpochReport>? onEpoch = null, FoldPasses? passes = null)
    {
        double[] grid = CheckGrid(cs, options.PathPenalty);
        options = PathOptions(options);
        // Under mpirun every rank holds every row too, so every rank deals the folds one process would; each fold's
        // session then shards its rows over the ranks and sums their gradients and held-out counts (TrainingSession).
        int[] foldOfRow = FoldRows.Assign(set, folds, options);
        if (passes is not (null or FoldPasses.Sessions) && !CanShare(gpu, options))
            throw new ArgumentException("the folds share the rows on the host engine, in one process");
        bool newton = CanShare(gpu, options) && NewtonOptimizer.Chosen(gpu.Host, options, streamed: false, set.Dim, k);
        passes ??= !CanShare(gpu, options) ? FoldPasses.Sessions
            : SharedPass.Stacks(k, set.Dim, folds) && !newton ? FoldPasses.Stacked : FoldPasses.SideBySide;
        FoldPath[] paths = passes switch
        {
            FoldPasses.Stacked => WalkStacked(new SharedPass(set, k, options, foldOfRow, folds), grid, score, options),
            FoldPasses.SideBySide => WalkSideBySide(new SharedPass(set, k, options, foldOfRow, folds), grid, score, options, newton),
            _ => [.. Enumerable.Range(0, folds).Select(fold => WalkFold(gpu, set, k, foldOfRow, fold, grid, score, options))],
        };
        return Chosen(gpu, set, k, grid, paths, score, options, onEpoch);
    }

    /// <summary>
    /// The path on rows read in blocks (a dense .sgd file, <see cref="SgdRowSource"/>), as <see cref="Run(Gpu, EncodedSet, int,
    /// IReadOnlyCollection{double}, int, PathScore, TrainOptions, Action{EpochReport}?, FoldPasses?)"/> runs it on the same rows in
    /// memory: the folds dealt from the same labels. On the host engine, in one process, where the rows fit memory four
    /// times over (<see cref="FitsInMemory"/>), they are read whole and the path is the one on rows in memory, its folds sharing
    /// the passes (the 10-value 5-fold search from a .sgd file, fold by fold against shared: letter 6.8–6.9 s against
    /// 3.7–3.8 s, MNIST 453 s against 163 s); where they do not, the folds still share the passes, each round reading the
    /// source once, a block at a time (<see cref="StreamedRows"/>: host memory holds one block, and the labels and folds
    /// [N]). On a device, or under mpirun, each fold is a session over its rows of the source (<see cref="RowSubset"/>),
    /// resident or streamed through the device as a single fit on them would be, its fits one after another: host memory
    /// holds the labels and each row's fold [N], one fold's row indices and the blocks being read, never the features.
    /// </summary>
    /// <param name="rows">The rows as they are fitted: class indices, or target rows (smoothed, weighted).</param>
    /// <param name="scored">The same rows as held-out rows are scored (<see cref="FoldRows"/>): class indices alone.</param>
    /// <param name="labels">Every row's class index [N], which the folds are stratified by.</param>
    public static PathResult Run(Gpu gpu, IRowSource rows, IRowSource scored, int[] labels, int k, IReadOnlyCollection<double> cs,
        int folds, PathScore score, TrainOptions options, Action<EpochReport>? onEpoch = null)
    {
        if (labels.Length != rows.Rows || scored.Rows != rows.Rows)
            throw new ArgumentException($"{rows.Rows} rows need {rows.Rows} labels and scored rows, got {labels.Length} and {scored.Rows}");
        if (CanShare(gpu, options) && FitsInMemory(rows, options))
            return Run(gpu, InMemory(rows, labels), k, cs, folds, score, options, onEpoch);
        double[] grid = CheckGrid(cs, options.PathPenalty);
        options = PathOptions(options);
        int[] foldOfRow = FoldRows.Assign(labels, folds, options);
        FoldPath[] paths = CanShare(gpu, options)
            ? WalkStacked(new SharedPass(rows, labels, k, options, foldOfRow, folds), grid, score, options)
            : [.. Enumerable.Range(0, folds).Select(fold =>
            {
                (IRowSource train, TrainOptions fit) = FoldRows.Training(rows, foldOfRow, fold, options);
                return WalkFold(gpu, k, train, fit, FoldRows.HeldOut(scored, foldOfRow, fold), fold, grid, score);
            })];
        return Chosen(gpu, rows, k, grid, paths, score, options, onEpoch);
    }

    /// <summary>
    /// Whether rows read in blocks fit host memory as the path in memory holds them, within --device-memory or
    /// <see cref="TrainPlan.DeviceMemoryShare"/> of what is available: four copies of them — the arrays read, the shared
    /// passes' copy in fold order, its sparse difference at worst as large, the refit's — as MNIST's search peaked at
    /// (851 MiB resident for 188 MB of rows).
    /// </summary>
    private static bool FitsInMemory(IRowSource rows, TrainOptions options) =>
        rows.Rows * Math.Max(rows.Dim, rows.TargetWidth) <= Array.MaxLength
        && 4 * rows.Rows * (4L * (rows.Dim + rows.TargetWidth) + 4) <= (options.DeviceMemory ?? (long)(TrainPlan.DeviceMemoryShare * SparseChoice.Available));

    /// <summary>
    /// Rows read in blocks, read whole into memory: their features and target rows as fitted, with <paramref name="labels"/>
    /// (each row's class, which held-out rows are scored by; zeros for tag sets, scored by their tags).
    /// </summary>
    private static EncodedSet InMemory(IRowSource rows, int[] labels)
    {
        int n = checked((int)rows.Rows), d = rows.Dim, width = rows.TargetWidth;
        var features = new float[(long)n * d];
        float[]? targets = width == 0 ? null : new float[(long)n * width];
        var ignored = new int[Math.Min(n, 1 << 16)]; // the source's own labels: the scored ones are given
        for (int start = 0; start < n; start += ignored.Length)
        {
            int count = Math.Min(ignored.Length, n - start);
            rows.Read(start, count, new RowBlock(features.AsSpan((int)((long)start * d), count * d), ignored.AsSpan(0, count),
                targets is null ? default : targets.AsSpan((int)((long)start * width), count * width)));
        }
        return new EncodedSet(features, labels, targets, n, d);
    }

    /// <summary>Every C's point over the folds' paths, the best one chosen, and the refit on every row at it.</summary>
    private static PathResult Chosen(Gpu gpu, IRowSource rows, int k, double[] grid, FoldPath[] paths, PathScore score,
        TrainOptions options, Action<EpochReport>? onEpoch)
    {
        return Result(Points(grid, paths), score, options, fit => Trainer.Train(gpu, rows, null, k, fit, onEpoch));
    }

    /// <summary>
    /// A path's result: the best point's value chosen (<see cref="Best"/>), <paramref name="refit"/> with the options of a
    /// fit at it, and the values named as the options' penalty has them.
    /// </summary>
    internal static PathResult Result(PathPoint[] points, PathScore score, TrainOptions options, Func<TrainOptions, TrainResult> refit)
    {
        double chosen = Best(points, score).Value;
        return new PathResult(points, chosen, score, refit(options.At(chosen))) { Penalty = options.PathPenalty };
    }

    /// <summary>
    /// One fold's walk in a session of its own: its training rows and options as a single fit on them has them (weighted
    /// rows reweighted over the fold), its held-out rows as a validation set (<see cref="FoldRows"/>).
    /// </summary>
    private static FoldPath WalkFold(Gpu gpu, EncodedSet set, int k, int[] foldOfRow, int fold, double[] grid, PathScore score,
        TrainOptions options)
    {
        (EncodedSet train, TrainOptions fit) = FoldRows.Training(set, foldOfRow, fold, options);
        return WalkFold(gpu, k, train, fit, FoldRows.HeldOut(set, foldOfRow, fold, options), fold, grid, score);
    }

    /// <summary>A fold's walk over the grid in a session on its training rows <paramref name="train"/>, fitted with <paramref name="fit"/>, scored on <paramref name="held"/>.</summary>
    private static FoldPath WalkFold(Gpu gpu, int k, IRowSource train, TrainOptions fit, IRowSource held, int fold, double[] grid,
        PathScore score)
    {
        using var session = new TrainingSession(gpu, train, held, k, fit);
        return Walk(session, fold, grid, score, fit);
    }

    /// <summary>
    /// The path scored on one validation set instead of folds (--val, --val-fraction): every C fitted on the
    /// training rows with warm starts, scored on <paramref name="held"/>; the chosen C is then fitted from zeros on
    /// the same rows (the same session), the model a single fit at that C would give.
    /// </summary>
    public static PathResult RunOnValidation(Gpu gpu, IRowSource train, IRowSource held, int k, IReadOnlyCollection<double> cs,
        PathScore score, TrainOptions options, Action<EpochReport>? onEpoch = null)
    {
        double[] grid = CheckGrid(cs, options.PathPenalty);
        options = PathOptions(options);
        using var session = new TrainingSession(gpu, train, held, k, options);
        return Result(Points(grid, [Walk(session, 0, grid, score, options)]), score, options, fit => session.Fit(fit, onEpoch));
    }

    /// <summary>One fold's (or the validation set's) fits over the grid: each C's held-out score, J, iterations and whether the fit hit the cap.</summary>
    internal sealed record FoldPath(double[] Scores, double[] Objectives, int[] Iterations, bool[] Capped)
    {
        public FoldPath(int values) : this(new double[values], new double[values], new int[values], new bool[values])
        {
        }

        /// <summary>Keeps fit <paramref name="i"/> of <paramref name="fold"/>'s walk over <paramref name="grid"/> and reports it (<see cref="TrainOptions.OnPathFit"/>).</summary>
        public void Keep(int i, double[] grid, int fold, double score, double? objective, int iterations, bool converged, TrainOptions options)
        {
            (Scores[i], Objectives[i], Iterations[i], Capped[i]) = (score, objective ?? double.NaN, iterations, !converged);
            options.OnPathFit?.Invoke(new PathFit(i, grid[i], fold, score, Objectives[i], iterations, converged));
        }
    }

    /// <summary>Every path fits to the optimum (Newton or L-BFGS: <see cref="TrainOptions.ToOptimum"/>), its λ from each fit's value (<see cref="PathPenalties.At"/>).</summary>
    internal static TrainOptions PathOptions(TrainOptions options) =>
        Optimizers.Find(options.Optimizer) is { FullBatch: false }
            ? throw new ArgumentException($"choosing {options.PathPenalty.Name()} fits each value to its optimum with newton or lbfgs, " +
                                          $"not {options.Optimizer}")
            : options.Patience > 0
                ? throw new ArgumentException("choosing among values fits each to its optimum: Patience (a mini-batch fit's early stop) does not apply")
                : options with { ToOptimum = true, WeightDecay = null };

    /// <summary>Fits every C of the grid in order on the session's rows, each from the previous fit's θ.</summary>
    private static FoldPath Walk(TrainingSession session, int fold, double[] grid, PathScore score, TrainOptions options)
    {
        var path = new FoldPath(grid.Length);
        float[]? start = null;
        for (int i = 0; i < grid.Length; i++)
        {
            TrainResult fit = session.Fit(options.At(grid[i]) with { InitialTheta = start });
            EpochReport last = fit.History[^1];
            path.Keep(i, grid, fold, score == PathScore.Accuracy ? last.ValAccuracy!.Value : last.ValLoss!.Value, fit.Objective,
                fit.History.Count, fit.Converged, options);
            start = fit.Theta;
        }
        return path;
    }

    /// <summary>
    /// Whether the folds can share their passes (<see cref="SharedPass"/>): on the host engine, in one process (every head:
    /// class indices, target rows, tag sets).
    /// </summary>
    public static bool CanShare(Gpu gpu, TrainOptions options) =>
        gpu.Host && options.Ranks.Size == 1;

    /// <summary>
    /// Every fold's walk over the grid at once, each on its own thread with its own L-BFGS, their evaluations computed
    /// together in <paramref name="pass"/>'s rounds; a fold that ends leaves the rounds.
    /// </summary>
    private static FoldPath[] WalkStacked(SharedPass pass, double[] grid, PathScore score, TrainOptions options)
    {
        var paths = new FoldPath[pass.Models];
        OnThreads(pass.Models, fold =>
        {
            try
            {
                paths[fold] = WalkFold(pass, Fits.Stacked, fold, grid, score, options);
            }
            finally
            {
                pass.Leave(fold);
            }
        });
        return paths;
    }

    /// <summary>
    /// Every fold's walk over the grid in passes of its own (<see cref="SharedPass.Alone"/>), the folds taken in turn
    /// by one thread per core: no fold waits for another.
    /// </summary>
    /// <param name="newton">Each fold fits with Newton (<see cref="SharedPass.Exact"/>) rather than L-BFGS.</param>
    private static FoldPath[] WalkSideBySide(SharedPass pass, double[] grid, PathScore score, TrainOptions options, bool newton)
    {
        var paths = new FoldPath[pass.Models];
        int next = -1;
        OnThreads(Math.Min(Environment.ProcessorCount, pass.Models), _ =>
        {
            for (int fold; (fold = Interlocked.Increment(ref next)) < pass.Models;)
                paths[fold] = WalkFold(pass, newton ? Fits.Newton : Fits.Alone, fold, grid, score, options);
        });
        return paths;
    }

    /// <summary>Runs <paramref name="body"/>(0 … count − 1) each on a thread of its own; the first to throw is rethrown once all end.</summary>
    private static void OnThreads(int count, Action<int> body)
    {
        var errors = new Exception?[count];
        Thread[] threads = [.. Enumerable.Range(0, count).Select(i => new Thread(() =>
        {
            try
            {
                body(i);
            }
            catch (Exception e)
            {
                errors[i] = e;
            }
        }) { Name = $"cv {i}", IsBackground = true })];
        foreach (Thread thread in threads)
            thread.Start();
        foreach (Thread thread in threads)
            thread.Join();
        if (errors.FirstOrDefault(e => e is not null) is Exception error)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
    }

    /// <summary>How a fold model on the shared rows fits: L-BFGS in the stacked passes, L-BFGS in passes of its own, Newton.</summary>
    private enum Fits { Stacked, Alone, Newton }

    /// <summary>
    /// One fold's fits over the grid on the shared rows, in the stacked passes (<see cref="SharedPass.For"/>), in passes
    /// of its own (<see cref="SharedPass.Alone"/>), or with Newton (<see cref="SharedPass.Exact"/>), each C warm-started
    /// from the previous one's θ, as <see cref="Walk"/>.
    /// </summary>
    private static FoldPath WalkFold(SharedPass pass, Fits fits, int fold, double[] grid, PathScore score, TrainOptions options)
    {
        var path = new FoldPath(grid.Length);
        int cap = options.Epochs ?? (fits == Fits.Newton ? NewtonOptimizer.DefaultIterations : LbfgsOptimizer.DefaultIterations);
        float[]? theta = null;
        for (int i = 0; i < grid.Length; i++)
        {
            double lambda = TrainPlan.Lambda(pass.Options(fold, options).At(grid[i]), pass.TrainRows(fold)).Lambda;
            // From the previous fit's θ as the device held it (float), as a session's warm start does.
            double[] start = theta is null ? new double[pass.Parameters] : [.. theta.Select(v => (double)v)];
            using IFullBatchOptimizer optimizer = fits switch
            {
                Fits.Newton => new NewtonOptimizer(pass.Exact(fold, lambda), start),
                Fits.Alone => new LbfgsOptimizer(pass.Alone(fold, lambda), start),
                _ => new LbfgsOptimizer(pass.For(fold, lambda), start),
            };
            (double[] position, EpochOutcome last, int iterations) = Fit(optimizer, cap, options);
            theta = [.. position.Select(v => (float)v)];
            (double heldLoss, double heldAccuracy) = pass.Score(fold, theta);
            path.Keep(i, grid, fold, score == PathScore.Accuracy ? heldAccuracy : heldLoss, last.Objective, iterations,
                last.Converged is not null, options);
        }
        return path;
    }

    /// <summary>Each C's point over the folds' paths.</summary>
    internal static PathPoint[] Points(double[] grid, FoldPath[] paths) =>
        [.. grid.Select((c, i) => new PathPoint(c, [.. paths.Select(p => p.Scores[i])], [.. paths.Select(p => p.Objectives[i])],
            [.. paths.Select(p => p.Iterations[i])], [.. paths.Select(p => p.Capped[i])]))];

    /// <summary>The best mean score (the first among equals: the strongest penalty, the smallest C or the largest weight decay).</summary>
    internal static PathPoint Best(PathPoint[] points, PathScore score) =>
        score == PathScore.Accuracy ? points.MaxBy(p => p.Mean)! : points.MinBy(p => p.Mean)!;

    /// <summary><paramref name="optimizer"/> to its objective's optimum (or <paramref name="cap"/> iterations): one fit of a path.</summary>
    internal static (double[] Theta, EpochOutcome Last, int Iterations) Fit(IFullBatchOptimizer optimizer, int cap, TrainOptions options)
    {
        EpochOutcome last;
        int iterations = 0;
        do
        {
            last = optimizer.Run(++iterations);
            if (!double.IsFinite(last.TrainLoss))
                throw new TrainingDivergedException(iterations, last.TrainLoss, learningRate: null); // a path fits with Newton or L-BFGS
        }
        while (last.Converged is null && iterations < cap);
        return (optimizer.Position.ToArray(), last, iterations);
    }
}
