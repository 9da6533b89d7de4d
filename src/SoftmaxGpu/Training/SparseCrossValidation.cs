using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Distributed;

namespace SoftmaxGpu.Training;

/// <summary>
/// Choosing C on sparse rows without making them dense: the path of <see cref="CrossValidation"/> (the same folds —
/// stratified by class, or by row for multi-label tag sets (<see cref="FoldRows.Assign(int[], int, TrainOptions)"/>) — the grid from the strongest penalty to the weakest with warm starts, λ = 1/(C·N_fold), the same choice and
/// <see cref="PathResult"/>) on the sparse objective of the device opened (<see cref="SparseTraining.Objective"/>: the
/// host engine's <see cref="SparseObjective{THead}"/>, or <see cref="DeviceSparseObjective"/>). The folds run one after
/// another, each with its training rows copied out as a <see cref="SparseSet"/> (CSR, and the CSC copy its passes make)
/// and its held-out rows as another: at most one fold's copy of the rows exists beside the set
/// (<see cref="SparseChoice.FoldBytes"/>). One objective a fold, its λ set for each C (<see cref="ISparseObjective.Lambda"/>),
/// so a device uploads a fold's rows once, not once a C, and the penalty stays fused into the pass.
///
/// The rows arrive scaled once with the statistics of every training row and centred on their mean (μ), the folds
/// sharing both, as the dense path's folds share one standardization.
///
/// Under mpirun (the host engine) every rank holds every row, so every rank deals the same folds; a fold's objective
/// sums its training rows shard by shard over the ranks, as single training does, and each rank scores the whole
/// held-out fold, so the ranks take the same steps and choose the same C as one process would.
/// </summary>
public static class SparseCrossValidation
{
    /// <summary>Runs the path over <paramref name="cs"/> with <paramref name="folds"/> folds and refits at the chosen C.</summary>
    /// <param name="set">Every training row, scaled, with class indices and, for class weights or smoothing, target rows
    /// (each fold reweighted as a single fit on its rows, <see cref="FoldRows"/>; held-out rows scored by their class);
    /// for the sigmoid head (<c>options.Loss</c>), the tag sets as target rows (held-out rows scored by their tags).</param>
    /// <param name="centre">μ: [D] the scaled columns' means the models are centred on, or null (not centred).</param>
    /// <param name="onEpoch">Reports the refit's iterations (the folds' fits run quietly).</param>
    public static PathResult Run(Gpu gpu, SparseSet set, int k, double[]? centre, IReadOnlyCollection<double> cs, int folds,
        PathScore score, TrainOptions options, Action<EpochReport>? onEpoch = null)
    {
        double[] grid = CrossValidation.CheckGrid(cs, options.PathPenalty);
        options = CrossValidation.PathOptions(options);
        int[] foldOfRow = FoldRows.Assign(set.Labels, folds, options);
        CrossValidation.FoldPath[] paths = [.. Enumerable.Range(0, folds).Select(fold =>
        {
            (SparseSet train, TrainOptions fit) = FoldRows.Training(set, foldOfRow, fold, options);
            return Walk(gpu, train, FoldRows.HeldOut(set, foldOfRow, fold, options), fold, k, centre, grid, score, fit);
        })];
        return CrossValidation.Result(CrossValidation.Points(grid, paths), score, options,
            fit => SparseTraining.Train(gpu, set, null, k, centre, fit, onEpoch));
    }

    /// <summary>
    /// The path scored on one validation set instead of folds (--val, --val-fraction): every C fitted on
    /// <paramref name="train"/> with warm starts, scored on <paramref name="held"/>; the chosen C is then fitted from
    /// zeros on the same rows, the model a single fit at that C would give.
    /// </summary>
    public static PathResult RunOnValidation(Gpu gpu, SparseSet train, SparseSet held, int k, double[]? centre,
        IReadOnlyCollection<double> cs, PathScore score, TrainOptions options, Action<EpochReport>? onEpoch = null)
    {
        double[] grid = CrossValidation.CheckGrid(cs, options.PathPenalty);
        options = CrossValidation.PathOptions(options);
        return CrossValidation.Result(CrossValidation.Points(grid, [Walk(gpu, train, held, 0, k, centre, grid, score, options)]),
            score, options, fit => SparseTraining.Train(gpu, train, held, k, centre, fit, onEpoch));
    }

    /// <summary>
    /// Fits every C of the grid in order on <paramref name="train"/>, each from the previous fit's θ (kept in float64),
    /// and scores each fit on <paramref name="held"/>.
    /// </summary>
    private static CrossValidation.FoldPath Walk(Gpu gpu, SparseSet train, SparseSet held, int fold, int k, double[]? centre, double[] grid,
        PathScore score, TrainOptions options)
    {
        var path = new CrossValidation.FoldPath(grid.Length);
        int cap = options.Epochs ?? LbfgsOptimizer.DefaultIterations;
        // Under mpirun each rank sums its shard of the fold's training rows and the objective adds the sums over the ranks
        // (λ and the mean over all of them); every rank holds every row, so each scores the whole held-out fold alike.
        using ISparseObjective objective = SparseTraining.Objective(gpu, SparseTraining.ShardOf(train, options.Ranks), held, k, centre,
            lambda: 0, options, train.Rows);
        var theta = new double[objective.Parameters]; // [Wᵀ (D·K) | b]: zeros at the strongest penalty
        for (int i = 0; i < grid.Length; i++)
        {
            objective.Lambda = TrainPlan.Lambda(options.At(grid[i]), train.Rows).Lambda;
            EpochOutcome last;
            int iterations;
            using (var optimizer = new LbfgsOptimizer(objective, theta))
                (theta, last, iterations) = CrossValidation.Fit(optimizer, cap, options);
            Consensus.Require(options.Ranks, "a fold's fitted θ (their steps drifted apart)", Consensus.Bits(theta));
            // The fit's optimizer state (≈ 120 bytes a parameter, large-object heap) is garbage now; without a collection
            // here the heap grew over several fits' worth (debian-text's 17 M parameters, --cv 3 over 3 C: 8.6 GiB peak
            // resident without it, 2.6 GiB with it, as single training's plan has it).
            GC.Collect();
            (double heldLoss, double heldAccuracy) = objective.Score(theta, held);
            path.Keep(i, grid, fold, score == PathScore.Accuracy ? heldAccuracy : heldLoss, last.Objective, iterations,
                last.Converged is not null, options);
        }
        return path;
    }
}
