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
public sealed record PathResult(IReadOnlyList<PathPoint> Points, double ChosenC, PathScore Score, TrainResult Refit);

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
        options = options with { Optimizer = Optimizers.Lbfgs.Name, WeightDecay = null };
        int[] foldOfRow = Split.StratifiedFolds(set.Labels, folds, options.Seed);
        var scores = new double[grid.Length][];
        var objectives = new double[grid.Length][];
        var iterations = new int[grid.Length][];
        for (int i = 0; i < grid.Length; i++)
            (scores[i], objectives[i], iterations[i]) = (new double[folds], new double[folds], new int[folds]);
        for (int f = 0; f < folds; f++)
        {
            int fold = f;
            EncodedSet train = Rows(set, r => foldOfRow[r] != fold), held = Rows(set, r => foldOfRow[r] == fold);
            using var session = new TrainingSession(gpu, train, held, k, options);
            float[]? start = null;
            for (int i = 0; i < grid.Length; i++)
            {
                TrainResult fit = session.Fit(options with { C = grid[i], InitialTheta = start });
                EpochReport last = fit.History[^1];
                scores[i][f] = score == PathScore.Accuracy ? last.ValAccuracy!.Value : last.ValLoss!.Value;
                objectives[i][f] = fit.Objective ?? double.NaN;
                iterations[i][f] = fit.History.Count;
                start = fit.Theta;
            }
        }
        PathPoint[] points = [.. grid.Select((c, i) => new PathPoint(c, scores[i], objectives[i], iterations[i]))];
        PathPoint best = score == PathScore.Accuracy ? points.MaxBy(p => p.Mean)! : points.MinBy(p => p.Mean)!;
        TrainResult refit = Trainer.Train(gpu, set, null, k, options with { C = best.C }, onEpoch);
        return new PathResult(points, best.C, score, refit);
    }

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
