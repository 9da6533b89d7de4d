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

/// <summary>
/// One C of a path: its score on each fold, their mean and spread, each fold's training objective J at its optimum,
/// and the L-BFGS iterations each fold took.
/// </summary>
public sealed record PathPoint(double C, double[] Scores, double[] Objectives, int[] Iterations)
{
    public double Mean => Scores.Average();
    /// <summary>The population standard deviation of the fold scores.</summary>
    public double Spread => Math.Sqrt(Scores.Average(s => (s - Mean) * (s - Mean)));
}

/// <summary>A path's outcome: every C's point, the chosen C, and the model refit on every training row at it.</summary>
public sealed record PathResult(IReadOnlyList<PathPoint> Points, double ChosenC, PathScore Score, TrainResult Refit)
{
    /// <summary>What the model file keeps of the path (<see cref="Model.ModelSelection"/>); <paramref name="folds"/> 0: a validation set.</summary>
    public Model.ModelSelection Selection(int folds) =>
        new(Score == PathScore.Accuracy ? "accuracy" : "log-loss", folds, ChosenC,
            [.. Points.Select(p => new Model.SelectionRow(p.C, p.Scores))]);
}

/// <summary>
/// Choosing C by K-fold cross-validation, as scikit-learn's LogisticRegressionCV: the rows are dealt to K stratified
/// folds (<see cref="Split.StratifiedFolds"/>); for each fold one <see cref="TrainingSession"/> holds its training
/// rows (uploaded once) and fits every C from the strongest penalty to the weakest, each fit warm-started from the
/// previous one's θ, with λ = 1/(C·N_fold) as a single fit on those rows would have; the held-out rows score each
/// fit. The C with the best mean score is chosen (the smallest C among equals) and refit on every row.
/// </summary>
public static class CrossValidation
{
    /// <summary>
    /// --C as written: one value, a comma-separated list, or a log-spaced range <c>low:high:count</c> (count values from
    /// low to high, both included, evenly spaced in log C: <c>1e-4:1e4:10</c> is scikit-learn's <c>Cs=10</c> grid).
    /// </summary>
    public static double[] ParseGrid(string text)
    {
        string[] range = text.Split(':', StringSplitOptions.TrimEntries);
        if (range.Length == 3)
        {
            double low = Number(range[0], text), high = Number(range[1], text);
            if (!int.TryParse(range[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int count) || count < 2)
                throw new ArgumentException($"--C {text}: a range is low:high:count with a count of at least 2");
            if (!(low > 0) || !(high > low) || !double.IsFinite(high))
                throw new ArgumentException($"--C {text}: a range needs 0 < low < high");
            return [.. Enumerable.Range(0, count).Select(i => Math.Exp(Math.Log(low) + i * (Math.Log(high) - Math.Log(low)) / (count - 1)))];
        }
        if (range.Length != 1)
            throw new ArgumentException($"--C {text}: give one value, values separated by commas, or a range low:high:count");
        return [.. text.Split(',', StringSplitOptions.TrimEntries).Select(value => Number(value, text))];
    }

    private static double Number(string value, string text) =>
        double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double c)
            ? c
            : throw new ArgumentException($"--C {text}: '{value}' is not a number");

    /// <summary>The grid checked by name: at least one C, each finite and &gt; 0, none twice.</summary>
    public static double[] CheckGrid(IReadOnlyCollection<double> cs)
    {
        if (cs.Count == 0)
            throw new ArgumentException("--C needs at least one value");
        foreach (double c in cs)
            if (!(c > 0) || !double.IsFinite(c))
                throw new ArgumentException($"--C values must be finite and > 0, got {c}");
        if (cs.Distinct().Count() != cs.Count)
            throw new ArgumentException("--C names a value twice");
        return [.. cs.Order()];
    }

    /// <summary>Runs the path over <paramref name="cs"/> with <paramref name="folds"/> folds and refits at the chosen C.</summary>
    /// <param name="options">L-BFGS settings for every fit; its C and weight decay are the path's.</param>
    /// <param name="onEpoch">Reports the refit's iterations (the folds' fits run quietly).</param>
    public static PathResult Run(Gpu gpu, EncodedSet set, int k, IReadOnlyCollection<double> cs, int folds, PathScore score,
        TrainOptions options, Action<EpochReport>? onEpoch = null)
    {
        double[] grid = CheckGrid(cs);
        options = PathOptions(options);
        int[] foldOfRow = Split.StratifiedFolds(set.Labels, folds, options.Seed);
        var paths = new FoldPath[folds];
        for (int f = 0; f < folds; f++)
        {
            int fold = f;
            using var session = new TrainingSession(gpu, Rows(set, r => foldOfRow[r] != fold), Rows(set, r => foldOfRow[r] == fold), k, options);
            paths[f] = Walk(session, grid, score, options);
        }
        PathPoint[] points = Points(grid, paths);
        double chosen = Best(points, score).C;
        return new PathResult(points, chosen, score, Trainer.Train(gpu, set, null, k, options with { C = chosen }, onEpoch));
    }

    /// <summary>
    /// The path scored on one validation set instead of folds (--val, --val-fraction): every C fitted on the
    /// training rows with warm starts, scored on <paramref name="held"/>; the chosen C is then fitted from zeros on
    /// the same rows (the same session), the model a single fit at that C would give.
    /// </summary>
    public static PathResult RunOnValidation(Gpu gpu, EncodedSet train, EncodedSet held, int k, IReadOnlyCollection<double> cs,
        PathScore score, TrainOptions options, Action<EpochReport>? onEpoch = null)
    {
        double[] grid = CheckGrid(cs);
        options = PathOptions(options);
        using var session = new TrainingSession(gpu, train, held, k, options);
        PathPoint[] points = Points(grid, [Walk(session, grid, score, options)]);
        double chosen = Best(points, score).C;
        return new PathResult(points, chosen, score, session.Fit(options with { C = chosen }, onEpoch));
    }

    /// <summary>One session's fits over the grid: each C's held-out score, J and iterations.</summary>
    private sealed record FoldPath(double[] Scores, double[] Objectives, int[] Iterations);

    /// <summary>Every path fits to the optimum with L-BFGS, its λ from C.</summary>
    private static TrainOptions PathOptions(TrainOptions options) =>
        options with { Optimizer = Optimizers.Lbfgs.Name, WeightDecay = null };

    /// <summary>Fits every C of the grid in order on the session's rows, each from the previous fit's θ.</summary>
    private static FoldPath Walk(TrainingSession session, double[] grid, PathScore score, TrainOptions options)
    {
        var path = new FoldPath(new double[grid.Length], new double[grid.Length], new int[grid.Length]);
        float[]? start = null;
        for (int i = 0; i < grid.Length; i++)
        {
            TrainResult fit = session.Fit(options with { C = grid[i], InitialTheta = start });
            EpochReport last = fit.History[^1];
            path.Scores[i] = score == PathScore.Accuracy ? last.ValAccuracy!.Value : last.ValLoss!.Value;
            path.Objectives[i] = fit.Objective ?? double.NaN;
            path.Iterations[i] = fit.History.Count;
            start = fit.Theta;
        }
        return path;
    }

    /// <summary>Each C's point over the folds' paths.</summary>
    private static PathPoint[] Points(double[] grid, FoldPath[] paths) =>
        [.. grid.Select((c, i) => new PathPoint(c, [.. paths.Select(p => p.Scores[i])], [.. paths.Select(p => p.Objectives[i])],
            [.. paths.Select(p => p.Iterations[i])]))];

    /// <summary>The best mean score (the first, so the smallest C, among equals).</summary>
    private static PathPoint Best(PathPoint[] points, PathScore score) =>
        score == PathScore.Accuracy ? points.MaxBy(p => p.Mean)! : points.MinBy(p => p.Mean)!;

    /// <summary>The rows of <paramref name="set"/> that <paramref name="keep"/> keeps, targets with them.</summary>
    private static EncodedSet Rows(EncodedSet set, Func<int, bool> keep)
    {
        int[] rows = [.. Enumerable.Range(0, set.Rows).Where(keep)];
        int d = set.Dim, width = set.TargetWidth;
        var features = new float[(long)rows.Length * d];
        var targets = width == 0 ? null : new float[(long)rows.Length * width];
        var labels = new int[rows.Length];
        set.Gather(rows, new RowBlock(features, labels, targets));
        return new EncodedSet(features, labels, targets, rows.Length, d);
    }
}
