using System.Globalization;
namespace SoftmaxGpu.Data;

/// <summary>Seeded, stratified train/validation split: each class gives the same fraction of its rows.</summary>
public static class Split
{
    /// <summary>Row indices of the training and validation parts, each in ascending order.</summary>
    public static (int[] Train, int[] Validation) Stratified(int[] classOfRow, double validationFraction, int seed)
    {
        if (!(validationFraction is > 0 and < 1)) // NaN too
            throw new ArgumentOutOfRangeException(nameof(validationFraction),
                $"--val-fraction must be between 0 and 1 (exclusive), got {validationFraction}");
        var random = new Random(seed);
        var train = new List<int>();
        var validation = new List<int>();
        foreach (IGrouping<int, int> rows in Enumerable.Range(0, classOfRow.Length).GroupBy(r => classOfRow[r]).OrderBy(g => g.Key))
        {
            int[] members = rows.ToArray();
            random.Shuffle(members);
            // A class with two or more rows keeps at least one on each side.
            int take = (int)Math.Round(members.Length * validationFraction);
            if (members.Length >= 2)
                take = Math.Clamp(take, 1, members.Length - 1);
            validation.AddRange(members.Take(take));
            train.AddRange(members.Skip(take));
        }
        if (train.Count == 0)
            throw new ArgumentException($"--val-fraction {validationFraction.ToString(CultureInfo.InvariantCulture)} of {classOfRow.Length} " +
                                        "rows leaves no training rows; give a smaller fraction, or more rows");
        if (validation.Count == 0)
            throw new ArgumentException($"--val-fraction {validationFraction.ToString(CultureInfo.InvariantCulture)} of {classOfRow.Length} " +
                                        "rows leaves no validation rows; give a larger fraction, or more rows");
        train.Sort();
        validation.Sort();
        return (train.ToArray(), validation.ToArray());
    }

    /// <summary>
    /// The fold (0 … K − 1) of each row for K-fold cross-validation, seeded and stratified: each class's rows, shuffled,
    /// are dealt to the folds in turn, so every fold holds ⌊n_c/K⌋ or ⌈n_c/K⌉ rows of class c. Every class needs at
    /// least K rows, or some fold would have none of it.
    /// </summary>
    public static int[] StratifiedFolds(int[] classOfRow, int folds, int seed)
    {
        RequireFolds(classOfRow, folds);
        var random = new Random(seed);
        var foldOfRow = new int[classOfRow.Length];
        foreach (IGrouping<int, int> rows in Enumerable.Range(0, classOfRow.Length).GroupBy(r => classOfRow[r]).OrderBy(g => g.Key))
        {
            int[] members = rows.ToArray();
            random.Shuffle(members);
            for (int i = 0; i < members.Length; i++)
                foldOfRow[members[i]] = i % folds;
        }
        return foldOfRow;
    }

    /// <summary>
    /// What <see cref="StratifiedFolds"/> needs of K folds: K ≥ 2, and at least K rows of every class that has rows;
    /// the error names the first class short of rows by its name in <paramref name="classes"/> (by its index without).
    /// </summary>
    public static void RequireFolds(int[] classOfRow, int folds, IReadOnlyList<string>? classes = null)
    {
        if (folds < 2)
            throw new ArgumentException($"--cv must be at least 2 folds, got {folds}");
        foreach (IGrouping<int, int> rows in classOfRow.GroupBy(c => c).OrderBy(g => g.Key))
        {
            int count = rows.Count();
            if (count < folds)
                throw new ArgumentException(
                    $"--cv {folds}: class {classes?[rows.Key] ?? rows.Key.ToString(CultureInfo.InvariantCulture)} has {count} rows, " +
                    "fewer than the folds; give fewer folds");
        }
    }

    /// <summary>
    /// The fold (0 … K − 1) of each of <paramref name="rows"/> rows, seeded, not stratified: the rows shuffled and dealt
    /// to the folds in turn, so every fold holds ⌊N/K⌋ or ⌈N/K⌉ of them. For rows with no single class to stratify by
    /// (multi-label tag sets).
    /// </summary>
    public static int[] Folds(int rows, int folds, int seed)
    {
        if (folds >= 2 && rows < folds)
            throw new ArgumentException($"--cv {folds}: {rows} rows, fewer than the folds; give fewer folds");
        return StratifiedFolds(new int[rows], folds, seed); // one class: the shuffle dealt in turn
    }
}
