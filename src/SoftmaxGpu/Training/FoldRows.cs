using SoftmaxGpu.Data;

namespace SoftmaxGpu.Training;

/// <summary>
/// What each fold of a path over C (<see cref="CrossValidation"/>) fits and is scored on, for every head and kind of
/// target row in memory: the rows dealt to the folds, a fold's training rows as a single fit on them sees them, and its
/// held-out rows as a validation set is.
///
/// Folds: stratified by class for one class per row (<see cref="Split.StratifiedFolds"/>); multi-label rows (the sigmoid
/// head) have no single class, so a seeded shuffle dealt in turn (<see cref="Split.Folds"/>).
///
/// Weights: weighted rows arrive as target rows t_i = w_i·y_i·N/Σw over the N training rows (<see cref="Weighting"/>).
/// The single weighted fit on a fold's N_f rows has J = Σ_f w_i·CE_i / Σ_f w_i + (λ/2)‖W‖², λ = 1/(C·Σ_f w), so its
/// targets are those rescaled to a mean mass of 1 over the fold, t'_i = t_i·N_f/M_f with M_f = Σ_f Σ_c t_ic, and
/// Σ_f w = M_f·Σw/N. The class weights stay those of every training row, as scikit-learn's LogisticRegressionCV
/// computes class_weight='balanced' once on the whole y. Smoothed or probability targets without weights have a mass of
/// 1 a row already and are kept as they are.
///
/// Held-out rows are scored as --val rows are: for one class per row against the label, unweighted (probability targets
/// against their largest class); multi-label rows against their tags.
///
/// Rows read in blocks (a dense .sgd file, <see cref="IRowSource"/>) are dealt to the same folds from their labels, and a
/// fold's rows are read from the source as they stream (<see cref="RowSubset"/>), its targets rescaled on the way: the
/// same rows and floats as in memory, without the features in host memory.
/// </summary>
internal static class FoldRows
{
    /// <summary>The fold (0 … folds − 1) of each row of <paramref name="set"/>.</summary>
    public static int[] Assign(EncodedSet set, int folds, TrainOptions options) => Assign(set.Labels, folds, options);

    /// <summary>The fold (0 … folds − 1) of each row, from every row's class index [N] (a row's count alone for tags).</summary>
    public static int[] Assign(int[] labels, int folds, TrainOptions options) =>
        Tags(options) ? Split.Folds(labels.Length, folds, options.Seed) : Split.StratifiedFolds(labels, folds, options.Seed);

    /// <summary>
    /// The rows outside fold <paramref name="fold"/>, with their targets as a single fit on them has them, and the
    /// options of that fit (its Σw, so λ = 1/(C·Σ_f w)).
    /// </summary>
    public static (EncodedSet Rows, TrainOptions Options) Training(EncodedSet set, int[] foldOfRow, int fold, TrainOptions options)
    {
        EncodedSet rows = Select(set, Members(foldOfRow, fold, held: false));
        if (options.WeightSum is not double sum)
            return (rows, options);
        (float[] targets, TrainOptions fit) = Reweighted(rows.Targets, rows.Rows, set.Rows, sum, options);
        return (rows with { Targets = targets }, fit);
    }

    /// <summary>The rows of fold <paramref name="fold"/>, as a validation set: labels, or tags for the sigmoid head.</summary>
    public static EncodedSet HeldOut(EncodedSet set, int[] foldOfRow, int fold, TrainOptions options)
    {
        EncodedSet rows = Select(set, Members(foldOfRow, fold, held: true));
        return Tags(options) ? rows : rows with { Targets = null };
    }

    /// <summary>
    /// The rows outside fold <paramref name="fold"/> of rows read in blocks (a file), as <see cref="RowSubset"/> reads
    /// them, with the targets and options of a single fit on them as <see cref="Training(EncodedSet, int[], int, TrainOptions)"/>
    /// makes them: weighted rows reweighted over the fold on the way (one pass over the fold's rows for their mass).
    /// </summary>
    public static (IRowSource Rows, TrainOptions Options) Training(IRowSource rows, int[] foldOfRow, int fold, TrainOptions options)
    {
        var subset = new RowSubset(rows, Members(foldOfRow, fold, held: false));
        if (options.WeightSum is not double sum)
            return (subset, options);
        (double scale, TrainOptions fit) = FoldWeights(subset.Rows, Mass(subset), rows.Rows, sum, options);
        return (new Rescaled(subset, scale), fit);
    }

    /// <summary>
    /// The rows of fold <paramref name="fold"/> of rows read in blocks, as a validation set: <paramref name="scored"/>
    /// is every row as held-out rows are scored (class indices alone; tags for the sigmoid head).
    /// </summary>
    public static IRowSource HeldOut(IRowSource scored, int[] foldOfRow, int fold) =>
        new RowSubset(scored, Members(foldOfRow, fold, held: true));

    /// <summary>
    /// The sparse rows outside fold <paramref name="fold"/>, with their target rows (class weights, smoothing) as a single
    /// fit on them has them and the options of that fit, as <see cref="Training(EncodedSet, int[], int, TrainOptions)"/>
    /// makes them for rows in memory.
    /// </summary>
    public static (SparseSet Rows, TrainOptions Options) Training(SparseSet set, int[] foldOfRow, int fold, TrainOptions options)
    {
        SparseSet rows = set.Select(Members(foldOfRow, fold, held: false));
        if (options.WeightSum is not double sum)
            return (rows, options);
        (float[] targets, TrainOptions fit) = Reweighted(rows.Targets, rows.Rows, set.Rows, sum, options);
        return (new SparseSet(rows.X, rows.Labels) { Targets = targets }, fit);
    }

    /// <summary>The sparse rows of fold <paramref name="fold"/>, as a validation set: their labels, no target rows; or
    /// their tags for the sigmoid head.</summary>
    public static SparseSet HeldOut(SparseSet set, int[] foldOfRow, int fold, TrainOptions options) =>
        set.Select(Members(foldOfRow, fold, held: true), withTargets: Tags(options));

    /// <summary>The rows in fold <paramref name="fold"/> (<paramref name="held"/>) or outside it, in order.</summary>
    private static int[] Members(int[] foldOfRow, int fold, bool held) =>
        [.. Enumerable.Range(0, foldOfRow.Length).Where(r => (foldOfRow[r] == fold) == held)];

    /// <summary>M = Σ_i Σ_c t_ic over the rows, in row order as <see cref="Reweighted"/> sums a set in memory; one pass in chunks.</summary>
    private static double Mass(IRowSource rows)
    {
        int d = rows.Dim, k = rows.TargetWidth;
        int chunk = (int)Math.Clamp(GradientEngine.BlockFloats / Math.Max(1, d + k), 1, Math.Max(1, rows.Rows));
        var features = new float[(long)chunk * d];
        var labels = new int[chunk];
        var targets = new float[(long)chunk * k];
        double mass = 0;
        for (long start = 0; start < rows.Rows; start += chunk)
        {
            int count = (int)Math.Min(chunk, rows.Rows - start);
            rows.Read(start, count, new RowBlock(features, labels, targets).Take(count, d, k));
            mass += Sum(targets.AsSpan(0, count * k));
        }
        return mass;
    }

    /// <summary>Σ t in float64, in order.</summary>
    internal static double Sum(ReadOnlySpan<float> targets)
    {
        double sum = 0;
        foreach (float t in targets)
            sum += t;
        return sum;
    }

    /// <summary>Rows whose target rows are scaled by <paramref name="scale"/> as they are read: the floats <see cref="Reweighted"/> writes.</summary>
    private sealed class Rescaled(IRowSource rows, double scale) : IRowSource
    {
        public long Rows => rows.Rows;
        public int Dim => rows.Dim;
        public int TargetWidth => rows.TargetWidth;

        public void Read(long start, int count, RowBlock block)
        {
            rows.Read(start, count, block);
            foreach (ref float t in block.Targets)
                t = (float)(t * scale);
        }
    }

    /// <summary>Whether the rows' targets are their tags (the sigmoid head), not targets made from a label.</summary>
    internal static bool Tags(TrainOptions options) => options.Loss is SigmoidCrossEntropy;

    /// <summary>
    /// A fold's <paramref name="targets"/> of its <paramref name="foldRows"/> rows reweighted, t'_i = t_i·N_f/M_f, and its
    /// options with Σ_f w = M_f·Σw/N (the type's summary); a fold of zero weights is an error.
    /// </summary>
    /// <param name="setRows">N: every training row, over which <paramref name="sum"/> (Σw) was taken.</param>
    private static (float[] Targets, TrainOptions Options) Reweighted(float[]? targets, long foldRows, long setRows, double sum,
        TrainOptions options)
    {
        if (targets is null)
            throw new ArgumentException("weighted rows carry their weights in target rows");
        (double scale, TrainOptions fit) = FoldWeights(foldRows, Sum(targets), setRows, sum, options);
        return ([.. targets.Select(t => (float)(t * scale))], fit);
    }

    /// <summary>
    /// A fold's N_f/M_f (its targets' scale) and options with Σ_f w = M_f·Σw/N, from its mass M_f; a fold whose rows all
    /// weigh 0 has nothing to fit: an error that says what to change.
    /// </summary>
    internal static (double Scale, TrainOptions Options) FoldWeights(long foldRows, double mass, long setRows, double sum, TrainOptions options)
    {
        if (!(mass > 0))
            throw new ArgumentException("every training row of a fold has weight 0: give fewer folds, or weights that leave each fold some");
        return (foldRows / mass, options with { WeightSum = mass * sum / setRows });
    }

    /// <summary>The rows <paramref name="rows"/> of <paramref name="set"/>, in order, with their targets.</summary>
    private static EncodedSet Select(EncodedSet set, int[] rows)
    {
        int d = set.Dim, width = set.TargetWidth;
        var features = new float[(long)rows.Length * d];
        var targets = width == 0 ? null : new float[(long)rows.Length * width];
        var labels = new int[rows.Length];
        set.Gather(rows, new RowBlock(features, labels, targets));
        return new EncodedSet(features, labels, targets, rows.Length, d);
    }
}
