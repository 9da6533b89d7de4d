namespace SoftmaxGpu.Training;

/// <summary>
/// Options resolved against the data and the device, once, before training: the optimizer (and why, for
/// auto), the schedule, the epoch count, the batch, λ and the learning rate.
/// </summary>
public sealed record TrainPlan(OptimizerEntry Optimizer, string Why, Schedule Schedule, int Epochs, int BatchRows,
    double WeightDecay, string WeightDecaySource, float LearningRate)
{
    /// <summary>Share of the device's memory that auto lets full-batch training plan on (the rest is margin).</summary>
    public const double DeviceMemoryShare = 0.8;

    /// <summary>
    /// Validates <paramref name="options"/> and resolves its defaults for N rows of D features and K classes on a
    /// device with <paramref name="deviceMemory"/> bytes.
    /// </summary>
    public static TrainPlan Resolve(TrainOptions options, long deviceMemory, int rows, int dim, int k, long validationRows)
    {
        options.Validate();
        (OptimizerEntry optimizer, string why) = Choose(options, deviceMemory, rows, dim, k, validationRows);
        int batch = optimizer.FullBatch || options.BatchSize is 0 || options.BatchSize > rows
            ? rows
            : options.BatchSize ?? TrainOptions.DefaultBatchSize;
        int epochs = options.Epochs ?? optimizer.DefaultEpochs(rows, batch);
        (double lambda, string source) = options.WeightDecay is float wd
            ? (wd, "--weight-decay")
            : (1 / ((options.C ?? TrainOptions.DefaultC) * rows),
                $"1/(C·N) with C = {options.C ?? TrainOptions.DefaultC:G6}, as scikit-learn's LogisticRegression");
        return new TrainPlan(optimizer, why, Schedules.Find(options.Schedule), epochs, batch, lambda, source,
            options.LearningRate ?? TrainOptions.DefaultLearningRate);
    }

    /// <summary>The named optimizer, or auto's choice: L-BFGS where the training set fits the device.</summary>
    private static (OptimizerEntry, string) Choose(TrainOptions options, long deviceMemory, int rows, int dim, int k, long validationRows)
    {
        if (Optimizers.Find(options.Optimizer) is OptimizerEntry named)
            return (named, "--optimizer");
        if (options.MiniBatchAsked)
            return (Optimizers.Adam, "auto: mini-batch options were given");
        long need = FullBatchBytes(rows, dim, k, validationRows);
        long budget = (long)(deviceMemory * DeviceMemoryShare);
        return need <= budget
            ? (Optimizers.Lbfgs, "auto: the training set fits the device")
            : (Optimizers.Adam, $"auto: full-batch training needs {need >> 20} MiB, more than {budget >> 20} MiB of the device's memory");
    }

    /// <summary>Device bytes of full-batch training: both sets, and Z, Q and G-sized buffers for every row.</summary>
    public static long FullBatchBytes(long rows, int dim, int k, long validationRows) =>
        DeviceSet.Bytes(rows, dim, k, false) + DeviceSet.Bytes(validationRows, dim, k, false) + 3L * 4 * rows * k;
}
