namespace SoftmaxGpu.Model;

/// <summary>
/// How a model's C was chosen, kept in its file (version 3): the score compared (<c>accuracy</c> or <c>log-loss</c>),
/// the folds (0: one validation set), the C chosen and refit, and the path's table — each C with its score on every
/// fold. A model fitted at one given C has none.
/// </summary>
public sealed record ModelSelection(string Score, int Folds, double ChosenC, IReadOnlyList<SelectionRow> Path);

/// <summary>One C of a path: its score on each fold (one value for a validation set), their mean and spread.</summary>
public sealed record SelectionRow(double C, double[] Scores)
{
    public double Mean => Scores.Average();

    /// <summary>The population standard deviation of the fold scores.</summary>
    public double Spread => Math.Sqrt(Scores.Average(s => (s - Mean) * (s - Mean)));
}
