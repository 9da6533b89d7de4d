using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Training;

/// <summary>
/// Training on sparse rows: full-batch L-BFGS (<see cref="LbfgsOptimizer"/>) on the sparse objective of the device
/// opened (<see cref="Objective"/>: the host engine's <see cref="SparseObjective{THead}"/>, or
/// <see cref="DeviceSparseObjective"/> on an ILGPU accelerator, rows resident or streamed), one iteration an epoch, the
/// validation rows scored after each. The optimizer works on θ = [Wᵀ | b]; the result's θ is the model's
/// [W (K·D) | b], as every other run returns it.
/// </summary>
public static class SparseTraining
{
    /// <summary>What runs sparse rows on the host engine, for the summary and the errors.</summary>
    public const string HostEngine = "host engine, sparse rows";

    /// <summary>
    /// What runs sparse rows on <paramref name="gpu"/>, in words, once checked to fit there
    /// (<see cref="SparseChoice.DeviceBlocks"/>; the host engine's memory was checked when the rows were read).
    /// </summary>
    public static string Engine(Gpu gpu, SparseRows train, SparseRows? validation, int k, TrainOptions options)
    {
        if (gpu.Host)
            return HostEngine;
        return $"{gpu.Backend.Name} kernels, {SparseChoice.DeviceBlocks(gpu, train, validation, k, options).Describe(train)}";
    }

    /// <summary>
    /// The sparse objective on <paramref name="gpu"/> for the head of <c>options.Loss</c> — softmax cross-entropy
    /// (<see cref="SoftmaxCrossEntropy"/>), or multi-label's sigmoid (<see cref="SigmoidCrossEntropy"/>, whose targets are
    /// the rows' tag sets): the host engine's pass (<see cref="SparseObjective{THead}"/> with <see cref="SoftmaxHead"/> or
    /// <see cref="SigmoidHead"/>), or the head's kernels around the sparse ones with the rows resident or streamed in
    /// blocks (<see cref="DeviceSparseObjective"/>, planned first).
    /// </summary>
    /// <param name="totalRows">N over every rank, where <paramref name="train"/> is this rank's shard (null: one process).</param>
    public static ISparseObjective Objective(Gpu gpu, SparseSet train, SparseSet? validation, int k, double[]? centre,
        double lambda, TrainOptions options, long? totalRows = null)
    {
        bool sigmoid = options.Loss switch
        {
            SoftmaxCrossEntropy => false,
            SigmoidCrossEntropy => true,
            _ => throw new ArgumentException($"sparse rows train the softmax and multi-label (sigmoid) heads; not {options.Loss.Name}"),
        };
        RequireTags(sigmoid, train, nameof(train));
        if (validation is not null)
            RequireTags(sigmoid, validation, nameof(validation));
        if (gpu.Host)
            return sigmoid
                ? new SparseObjective<SigmoidHead>(train, k, centre, lambda, options.Ranks, totalRows)
                : new SparseObjective<SoftmaxHead>(train, k, centre, lambda, options.Ranks, totalRows);
        if (options.Ranks.Size > 1)
            throw new ArgumentException("sparse rows under mpirun train on the host engine so far: give --device host");
        SparseBlocks blocks = SparseChoice.DeviceBlocks(gpu, train.X, validation?.X, k, options);
        return new DeviceSparseObjective(gpu, options.Loss, train, k, centre, lambda, blocks);
    }

    /// <summary>Rows for the sigmoid head (<paramref name="sigmoid"/>) carry their tags as target rows: without them, one
    /// clear error rather than a kernel reading rows that are not there.</summary>
    internal static void RequireTags(bool sigmoid, SparseSet rows, string name)
    {
        if (sigmoid && rows.Targets is null)
            throw new ArgumentException("multi-label training and scoring need each row's tags as its target row", name);
    }

    /// <summary>
    /// Whether the training rows come with target rows Y [N, K]: multi-label's tag sets, or label smoothing and class
    /// weights (each row its class's row of <see cref="Weighting.TargetTable"/>). Memory plans count them.
    /// </summary>
    public static bool TargetRows(TrainOptions options) =>
        options.Loss is SigmoidCrossEntropy || options.LabelSmoothing > 0 || options.ClassWeight is not null;

    /// <param name="gpu">The device: the host engine, or an ILGPU accelerator (CUDA, OpenCL, the CPU accelerator).</param>
    /// <param name="centre">μ: [D] the scaled columns' means the model is centred on, or null (not centred).</param>
    public static TrainResult Train(Gpu gpu, SparseSet train, SparseSet? validation, int k, double[]? centre, TrainOptions options,
        Action<EpochReport>? onEpoch = null)
    {
        options.Validate();
        if (validation is not null && validation.Dim != train.Dim)
            throw new ArgumentException($"the validation rows have {validation.Dim} features; the training rows {train.Dim}");
        TrainPlan plan = Plan(gpu, options, train, validation);
        // Under mpirun each rank sums its own contiguous shard of the rows; the objective adds the sums over the ranks.
        SparseSet rows = ShardOf(train, options.Ranks);
        using ISparseObjective objective = Objective(gpu, rows, validation, k, centre, plan.WeightDecay, options, train.Rows);
        double[] start = options.InitialTheta is float[] initial ? Transposed(initial, k, train.Dim) : new double[objective.Parameters];
        if (start.Length != objective.Parameters)
            throw new ArgumentException($"the initial θ has {start.Length} parameters; a model of {train.Dim} features and {k} classes has {objective.Parameters}");
        using var optimizer = new LbfgsOptimizer(objective, start);
        var history = new List<EpochReport>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        EpochOutcome? last = null;
        long rowsRead = 0;
        for (int iteration = 1; iteration <= plan.Epochs && last?.Converged is null; iteration++)
        {
            last = optimizer.Run(iteration);
            if (!double.IsFinite(last.TrainLoss))
                throw new TrainingDivergedException(iteration, last.TrainLoss, learningRate: null); // sparse rows train with L-BFGS
            (double Loss, double Accuracy)? scored = validation is null ? null : objective.Score(optimizer.Position.ToArray(), validation);
            var report = new EpochReport(iteration, plan.Epochs, last.TrainLoss, last.TrainAccuracy, scored?.Loss, scored?.Accuracy,
                clock.Elapsed) { Objective = last.Objective, RowsRead = rowsRead += (long)last.Passes * train.Rows };
            history.Add(report);
            onEpoch?.Invoke(report);
        }
        float[] theta = Model(optimizer.Position, k, train.Dim);
        Distributed.Consensus.Require(options.Ranks, "the trained θ (their steps drifted apart)", Distributed.Consensus.Bits(theta));
        return TrainingSession.Result(plan, theta, history, bestEpoch: 0, stopped: false, last?.Objective, last?.Converged,
            optimizer.Details, options.Patience);
    }

    /// <summary>
    /// The plan of a sparse run: L-BFGS to the optimum, every row in each pass, λ as every run resolves it; its memory
    /// the sets' bytes in host memory (the host engine) or the device's allowance (a device).
    /// </summary>
    private static TrainPlan Plan(Gpu gpu, TrainOptions options, SparseSet train, SparseSet? validation)
    {
        (double lambda, string source) = TrainPlan.Lambda(options, train.Rows);
        long bytes = gpu.Host ? train.Bytes + (validation?.Bytes ?? 0) : SparseChoice.DeviceBudget(gpu, options);
        return new TrainPlan(Optimizers.Lbfgs, "sparse rows: lbfgs to the optimum", Schedules.Find(options.Schedule),
            options.Epochs ?? LbfgsOptimizer.DefaultIterations, train.Rows, lambda, source,
            options.LearningRate ?? TrainOptions.DefaultLearningRate, bytes, train.Rows)
        {
            Rows = train.Rows,
            TotalRows = train.Rows,
            MostRows = train.Rows,
        };
    }

    /// <summary>
    /// This rank's contiguous rows of the set (<see cref="Distributed.Shards.Range"/>), the set itself alone; every rank
    /// needs at least one.
    /// </summary>
    internal static SparseSet ShardOf(SparseSet set, Distributed.ICommunicator ranks)
    {
        if (ranks.Size == 1)
            return set;
        if (set.Rows < ranks.Size)
            throw new ArgumentException($"the training set's {set.Rows} rows cannot be shared by {ranks.Size} ranks: each needs at least one (run fewer ranks)");
        (long start, long count) = Distributed.Shards.Range(set.Rows, ranks.Rank, ranks.Size);
        return set.Select([.. Enumerable.Range((int)start, (int)count)]);
    }

    /// <summary>[Wᵀ (D·K) | b] in float64 from a model's θ = [W (K·D) | b].</summary>
    public static double[] Transposed(float[] theta, int k, int d)
    {
        var result = new double[(long)k * d + k];
        for (int c = 0; c < k; c++)
            for (int j = 0; j < d; j++)
                result[(long)j * k + c] = theta[(long)c * d + j];
        for (int c = 0; c < k; c++)
            result[(long)d * k + c] = theta[(long)k * d + c];
        return result;
    }

    /// <summary>The model's θ = [W (K·D) | b] in float from the optimizer's [Wᵀ (D·K) | b].</summary>
    public static float[] Model(ReadOnlySpan<double> transposed, int k, int d)
    {
        var theta = new float[(long)k * d + k];
        for (int j = 0; j < d; j++)
            for (int c = 0; c < k; c++)
                theta[(long)c * d + j] = (float)transposed[(int)((long)j * k + c)];
        for (int c = 0; c < k; c++)
            theta[(long)k * d + c] = (float)transposed[(int)((long)d * k + c)];
        return theta;
    }
}
