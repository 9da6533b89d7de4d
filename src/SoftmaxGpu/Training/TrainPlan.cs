namespace SoftmaxGpu.Training;

/// <summary>
/// Options resolved against the data and the device, once, before training: the optimizer (and why, for
/// auto), the schedule, the epoch count, the batch, λ, the learning rate, and whether the sets stay resident on
/// the device or stream through it in blocks of <see cref="BlockRows"/> rows.
/// </summary>
/// <param name="DeviceMemory">Bytes training may use on the device (--device-memory, or a share of the device's).</param>
/// <param name="BlockRows">Rows per streamed block; N (one resident block) when the sets fit.</param>
public sealed record TrainPlan(OptimizerEntry Optimizer, string Why, Schedule Schedule, int Epochs, int BatchRows,
    double WeightDecay, string WeightDecaySource, float LearningRate, long DeviceMemory, int BlockRows)
{
    /// <summary>Share of the device's memory that training plans on by default (the rest is margin).</summary>
    public const double DeviceMemoryShare = 0.8;

    /// <summary>Whether the training set streams through the device in blocks.</summary>
    public bool Streamed => BlockRows < Rows;

    /// <summary>Training rows here: N, or this rank's shard of it.</summary>
    public int Rows { get; init; }

    /// <summary>N: training rows over every rank (= <see cref="Rows"/> alone); λ's default is 1/(C·N) of these.</summary>
    public long TotalRows { get; init; }

    /// <summary>
    /// Rows of the largest rank's shard (= <see cref="Rows"/> alone): the batch, the updates per epoch and the
    /// default epochs follow from it, so that every rank resolves them alike and makes the same collective calls.
    /// </summary>
    public int MostRows { get; init; }

    /// <summary>Whether the rows are weighted: the objective's loss is then Σ w·CE / Σ w (<see cref="Weighting"/>).</summary>
    public bool Weighted { get; init; }

    /// <summary>Rows of one gradient computation: a batch, or one block of a batch streamed in blocks.</summary>
    public int EngineRows => Math.Min(BatchRows, BlockRows);

    /// <summary>
    /// Validates <paramref name="options"/> and resolves its defaults for N rows of D features and K classes on a
    /// device with <paramref name="deviceMemory"/> bytes, rows carrying <paramref name="targetWidth"/> targets each
    /// (0, or K with soft targets, tag sets or weights; counted for the validation rows too). One rank of several gives its shard's rows, the whole
    /// set's (<paramref name="totalRows"/>) and the largest shard's (<paramref name="mostRows"/>): memory is planned
    /// for the shard, λ for the whole set, the batch and the epochs for the largest shard.
    /// </summary>
    public static TrainPlan Resolve(TrainOptions options, long deviceMemory, int rows, int dim, int k, long validationRows,
        long? totalRows = null, int? mostRows = null, int targetWidth = 0, bool hostEngine = false)
    {
        options.Validate();
        long total = totalRows ?? rows;
        int most = mostRows ?? rows;
        long budget = options.DeviceMemory ?? (long)(deviceMemory * DeviceMemoryShare);
        (OptimizerEntry optimizer, string why) = Choose(options, budget, rows, dim, k, validationRows, targetWidth, hostEngine);
        int batch = optimizer.FullBatch || options.BatchSize is 0 || options.BatchSize > most
            ? most
            : options.BatchSize ?? TrainOptions.DefaultBatchSize;
        int epochs = options.Epochs ?? optimizer.DefaultEpochs(most, batch);
        (double lambda, string source) = Lambda(options, total);
        if (float.IsInfinity((float)lambda))
            throw new ArgumentException($"λ = {lambda:G3} ({source}) is beyond float's range ({float.MaxValue:G3}), in which the " +
                                        "fits' kernels take it: give a larger C");
        // Two classes: scikit-learn fits one weight vector w = w₁ − w₀, and the penalty on both rows is ‖w‖²/2 at the optimum.
        if (k == 2 && options.WeightDecay is null && options.Loss is SoftmaxCrossEntropy)
            source = source.Replace("as scikit-learn's LogisticRegression",
                "as scikit-learn's LogisticRegression at 2·C: with two classes it fits one weight vector, this fits one a class");
        return new TrainPlan(optimizer, why, Schedules.Find(options.Schedule), epochs, batch, lambda, source,
            options.LearningRate ?? TrainOptions.DefaultLearningRate, budget,
            options.StreamBlockRows is int fixedRows ? WholeBatches(Math.Min(fixedRows, rows), rows, batch)
                : BlockRowsFor(budget, rows, dim, k, validationRows, batch, targetWidth))
        {
            Rows = rows,
            TotalRows = total,
            MostRows = most,
            Weighted = options.WeightSum is not null,
        };
    }

    /// <summary>λ of (λ/2)‖W‖² and where it came from: --weight-decay, or 1/(C·N) (1/(C·Σw) for weighted rows) over N rows in all.</summary>
    public static (double Lambda, string Source) Lambda(TrainOptions options, long totalRows)
    {
        double c = options.C ?? TrainOptions.DefaultC;
        if (options.WeightDecay is null && !double.IsFinite(1 / (c * (options.WeightSum ?? totalRows))))
            throw new ArgumentException(
                $"C = {c:G6} makes λ = 1/(C·{(options.WeightSum is null ? "N" : "Σw")}) infinite (C·{(options.WeightSum is null ? "N" : "Σw")} = " +
                $"{c * (options.WeightSum ?? totalRows):G6}); give a larger C");
        return options.WeightDecay is float wd
            ? (wd, "--weight-decay")
            : options.WeightSum is double weights
                ? (1 / (c * weights),
                    $"1/(C·Σw) with C = {c:G6} and Σw = {weights:G8} the training rows' weights, as scikit-learn's " +
                    "LogisticRegression with the same sample and class weights")
                : (1 / (c * totalRows), $"1/(C·N) with C = {c:G6}, as scikit-learn's LogisticRegression");
    }

    /// <summary>
    /// N when the sets, Z, Q and G for every row fit <paramref name="budget"/>; otherwise the most rows per block
    /// for which two blocks of each set (one computed on, one arriving), the block's forward buffers and a gathered
    /// batch fit, rounded down to whole batches so that each mini-batch lies in one block (a batch that spans blocks sums its
    /// gradient over them, which costs a launch and changes the order of the sums).
    /// </summary>
    public static int BlockRowsFor(long budget, int rows, int dim, int k, long validationRows, int batch, int targetWidth = 0)
    {
        if (FullBatchBytes(rows, dim, k, validationRows, targetWidth) <= budget)
            return rows;
        long rowBytes = DeviceSet.Bytes(1, dim, targetWidth);
        long perBlockRow = 2 * rowBytes * (validationRows > 0 ? 2 : 1) + 3L * 4 * k + rowBytes;
        return WholeBatches((int)Math.Clamp(budget / perBlockRow, 1, rows), rows, batch);
    }

    /// <summary>Block rows rounded down to whole mini-batches (where a block holds more than one).</summary>
    private static int WholeBatches(int blockRows, int rows, int batch) =>
        batch < rows && blockRows > batch ? blockRows - blockRows % batch : blockRows;

    /// <summary>
    /// The named optimizer, or auto's choice: Newton for a small model on the host engine, L-BFGS where the training set
    /// fits the device, Adam otherwise; a fit of a path (<see cref="TrainOptions.ToOptimum"/>) takes Newton or L-BFGS.
    /// </summary>
    private static (OptimizerEntry, string) Choose(TrainOptions options, long budget, int rows, int dim, int k, long validationRows,
        int targetWidth, bool hostEngine)
    {
        long need = FullBatchBytes(rows, dim, k, validationRows, targetWidth);
        bool streamed = need > budget || options.StreamBlockRows < rows;
        if (NewtonOptimizer.Chosen(hostEngine, options, streamed, dim, k))
            return (Optimizers.Newton, options.Optimizer == Optimizers.Newton.Name ? "--optimizer"
                : $"auto: a model of {(long)k * dim + k} parameters (at most {NewtonOptimizer.MaxParameters}) on the host engine");
        if (Optimizers.Find(options.Optimizer) is OptimizerEntry named)
            return (named, "--optimizer");
        if (options.ToOptimum)
            return (Optimizers.Lbfgs, "a path fits each value to its optimum");
        if (options.MiniBatchAsked)
            return (Optimizers.Adam, "auto: mini-batch options were given");
        return need <= budget
            ? (Optimizers.Lbfgs, "auto: the training set fits the device")
            : (Optimizers.Adam, $"auto: full-batch training needs {ByteSize.Format(need)} on the device, more than the {ByteSize.Format(budget)} it may use");
    }

    /// <summary>Device bytes of full-batch training: both sets (their targets too), and Z, Q and G-sized buffers for every row.</summary>
    public static long FullBatchBytes(long rows, int dim, int k, long validationRows, int targetWidth = 0) =>
        DeviceSet.Bytes(rows, dim, targetWidth) + DeviceSet.Bytes(validationRows, dim, targetWidth) + 3L * 4 * rows * k;
}
