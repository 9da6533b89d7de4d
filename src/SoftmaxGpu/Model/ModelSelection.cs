namespace SoftmaxGpu.Model;

/// <summary>
/// How a model's penalty was chosen, kept in its file (version 3; version 4 where the values are weight decays): the
/// score compared (<c>accuracy</c> or <c>log-loss</c>), the folds (0: one validation set), the value chosen and refit
/// (a C, or a weight decay: <see cref="Parameter"/>), and the path's table — each value with its score on every fold.
/// A model fitted at one given value has none.
/// </summary>
public sealed record ModelSelection(string Score, int Folds, double Chosen, IReadOnlyList<SelectionRow> Path)
{
    /// <summary>What the path's values are: "C" (the default), or "weight-decay" (λ itself; the file's version 4).</summary>
    public string Parameter { get; init; } = "C";
}

/// <summary>One value of a path (a C or a weight decay): its score on each fold (one value for a validation set), their mean and spread.</summary>
public sealed record SelectionRow(double Value, double[] Scores)
{
    public double Mean => Scores.Average();

    /// <summary>The population standard deviation of the fold scores.</summary>
    public double Spread => Math.Sqrt(Scores.Average(s => (s - Mean) * (s - Mean)));
}
