namespace SoftmaxGpu.Data;

/// <summary>Seeded, stratified train/validation split: each class gives the same fraction of its rows.</summary>
public static class Split
{
    /// <summary>Row indices of the training and validation parts, each in ascending order.</summary>
    public static (int[] Train, int[] Validation) Stratified(int[] classOfRow, double validationFraction, int seed)
    {
        if (validationFraction is <= 0 or >= 1)
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
        train.Sort();
        validation.Sort();
        return (train.ToArray(), validation.ToArray());
    }
}
