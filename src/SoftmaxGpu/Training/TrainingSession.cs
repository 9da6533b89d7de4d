using ILGPU.Runtime;
using System.Diagnostics;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Distributed;

namespace SoftmaxGpu.Training;

/// <summary>
/// Data uploaded once, fitted many times: the training and validation sets on the device (resident, or streamed
/// in blocks), and the engine with its buffers. Each <see cref="Fit"/> resolves its options against the same data,
/// starts at <see cref="TrainOptions.InitialTheta"/> (a warm start: the previous fit's θ along a regularization
/// path) or at zeros, and runs the training loop every optimizer shares: optimizer → divergence check →
/// validation → report → early stopping, until the optimizer converges or the epochs run out.
///
/// Fits may differ in what the data and the engine do not depend on (λ or C, epochs, learning rate, seed,
/// patience, the start); a fit whose options need another layout on the device (the batch, the streamed block,
/// the loss) is an error, and is a new session.
///
/// With several ranks (<see cref="TrainOptions.Ranks"/>) every rank opens the session on its own shard of the
/// rows (<see cref="Shards"/>) and makes the same fits; the engine sums gradients and losses over the ranks, so
/// each rank sees the whole set's numbers and makes the same decisions. The ranks check that they agree on the
/// data and each plan (<see cref="Consensus"/>), and at the end of each fit that they ended on the same θ.
/// </summary>
public sealed class TrainingSession : IDisposable
{
    private readonly Gpu gpu;
    private readonly IRowSource train;
    private readonly IRowSource? validation;
    private readonly IRowSource shard;
    private readonly IRowSource? validationShard;
    private readonly TrainPlan layout; // the plan the data and the engine were made for
    private readonly TrainingData trainData;
    private readonly TrainingData? valData;
    private readonly GradientEngine engine;

    /// <param name="train">Standardized rows with class indices and, where they have them, target rows: an
    /// <see cref="EncodedSet"/> in memory, or a file read in blocks (<see cref="IRowSource"/>).</param>
    /// <param name="options">The options of the fits to come, as far as the data's layout on the device goes.</param>
    public TrainingSession(Gpu gpu, IRowSource train, IRowSource? validation, int k, TrainOptions options)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        RequireClasses(train, k, "training");
        if (validation is not null)
            RequireClasses(validation, k, "validation");
        (this.gpu, this.train, this.validation, K) = (gpu, train, validation, k);
        ICommunicator ranks = options.Ranks;
        shard = ShardOf(train, ranks, "training");
        validationShard = validation is null ? null : ShardOf(validation, ranks, "validation");
        layout = Plan(options);
        trainData = Upload(shard, layout, train.Rows);
        valData = validation is null ? null : Upload(validationShard!, layout, validation.Rows);
        int rows = checked((int)shard.Rows);
        engine = new GradientEngine(gpu, options.Loss, train.Dim, k, layout.EngineRows, options.Fused, train.TargetWidth > 0,
            (int)Math.Min(layout.BlockRows, Math.Max(rows, validationShard?.Rows ?? 0)), ranks);
    }

    /// <summary>K: classes (tags) of the model.</summary>
    public int K { get; }

    private bool disposed;

    /// <summary>
    /// Rows fit K classes: at least two, target rows of K, and (in memory, where they can be read at once) every class
    /// index below K — a larger one would index past the model's logits.
    /// </summary>
    private static void RequireClasses(IRowSource rows, int k, string what)
    {
        if (k < 2 && rows.TargetWidth == 0)
            throw new ArgumentException($"k must be at least 2 classes, got {k}", nameof(k));
        if (rows.TargetWidth is not 0 && rows.TargetWidth != k)
            throw new ArgumentException($"the {what} rows' target rows are {rows.TargetWidth} wide, not k = {k}", nameof(k));
        if (rows is EncodedSet { TargetWidth: 0 } set && set.Labels.AsSpan(0, set.Rows).IndexOfAnyExceptInRange(0, k - 1) is int at and >= 0)
            throw new ArgumentException($"the {what} rows' class index {set.Labels[at]} (row {at}) is not below k = {k}", nameof(k));
    }

    /// <summary>The training set on the device, uploaded once for every fit.</summary>
    public TrainingData Data => trainData;

    /// <summary>One training run on the session's data from <paramref name="options"/>' start (zeros without one).</summary>
    public TrainResult Fit(TrainOptions options, Action<EpochReport>? onEpoch = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        TrainPlan plan = Plan(options);
        if (plan.BlockRows != layout.BlockRows || plan.EngineRows != layout.EngineRows || options.Loss != engine.Loss)
            throw new ArgumentException("these options need the data laid out on the device anew (another batch, block or loss): " +
                                        "open a new session for them");
        Start(options.InitialTheta);
        using IOptimizer optimizer = plan.Optimizer.Create(new OptimizerContext(gpu, engine, trainData, options, plan) { Rows = shard });
        using var best = new BestEpoch(gpu.Accelerator, engine, options.Patience);
        var history = new List<EpochReport>();
        EpochOutcome? last = Loop(optimizer, plan, best, history, onEpoch);
        best.Restore(history.Count);
        // J of the θ kept, where the optimizer computed it for that θ (L-BFGS); no extra pass over the data for it.
        double? objective = best.Restored ? null : last?.Objective;
        float[] theta = engine.Theta.GetAsArray1D();
        Consensus.Require(options.Ranks, "the trained θ (their steps drifted apart)", Consensus.Bits(theta));
        return Result(plan, theta, history, best.Epoch, best.Stopped, objective, last?.Converged, optimizer.Details, options.Patience);
    }

    /// <summary>The epochs (L-BFGS iterations) of one fit; returns the last one's outcome.</summary>
    private EpochOutcome? Loop(IOptimizer optimizer, TrainPlan plan, BestEpoch best, List<EpochReport> history,
        Action<EpochReport>? onEpoch)
    {
        var clock = Stopwatch.StartNew();
        EpochOutcome? last = null;
        long rowsRead = 0;
        for (int epoch = 1; epoch <= plan.Epochs && last?.Converged is null && !best.Stopped; epoch++)
        {
            last = optimizer.Run(epoch);
            if (!double.IsFinite(last.TrainLoss))
                throw new TrainingDivergedException(epoch, last.TrainLoss, plan.Optimizer.FullBatch ? null : plan.LearningRate);
            (double? valLoss, double? valAccuracy) = Validate(epoch, plan);
            var report = new EpochReport(epoch, plan.Epochs, last.TrainLoss, last.TrainAccuracy, valLoss, valAccuracy,
                clock.Elapsed) { Objective = last.Objective, RowsRead = rowsRead += last.Passes * train.Rows };
            history.Add(report);
            onEpoch?.Invoke(report);
            best.Observe(epoch, valLoss);
        }
        return last;
    }

    /// <summary>The options resolved against this data and device; every rank must resolve the same.</summary>
    private TrainPlan Plan(TrainOptions options)
    {
        ICommunicator ranks = options.Ranks;
        TrainPlan plan = TrainPlan.Resolve(options, gpu.Accelerator.MemorySize, checked((int)shard.Rows), train.Dim, K,
            validationShard?.Rows ?? 0, train.Rows, checked((int)Shards.MostRows(train.Rows, ranks.Size)),
            Math.Max(train.TargetWidth, validation?.TargetWidth ?? 0), gpu.Host);
        Consensus.Require(ranks, "the training plan", Consensus.Describe(options, plan, train, validation, K));
        return plan;
    }

    /// <summary>θ ← <paramref name="start"/>, or zeros.</summary>
    private void Start(float[]? start)
    {
        if (start is null)
        {
            engine.Theta.MemSetToZero();
            return;
        }
        if (start.Length != engine.Theta.Length)
            throw new ArgumentException($"the initial θ has {start.Length} parameters; a model of {train.Dim} features and " +
                                        $"{K} classes has {engine.Theta.Length}");
        engine.Theta.CopyFromCPU(start);
    }

    /// <summary>A set on the device as the plan says: resident, or streamed in blocks of the plan's rows.</summary>
    /// <param name="totalRows">Rows of the whole set, of which <paramref name="set"/> is this rank's shard.</param>
    private TrainingData Upload(IRowSource set, TrainPlan plan, long totalRows) =>
        TrainingData.Streamed(gpu.Accelerator, set, plan.Streamed ? plan.BlockRows : int.MaxValue, totalRows);

    /// <summary>This rank's shard of a set (the set itself alone); every rank needs at least one row.</summary>
    private static IRowSource ShardOf(IRowSource set, ICommunicator ranks, string what) =>
        set.Rows >= ranks.Size ? Shards.Of(set, ranks)
            : throw new ArgumentException($"the {what} set's {set.Rows} rows cannot be shared by {ranks.Size} ranks: " +
                                          "each needs at least one (run fewer ranks)");

    /// <summary>Mean loss and accuracy of the validation set under the current θ, or nulls without one.</summary>
    private (double? Loss, double? Accuracy) Validate(int epoch, TrainPlan plan)
    {
        if (valData is null)
            return (null, null);
        (double loss, double accuracy) = engine.Evaluate(valData);
        if (!double.IsFinite(loss))
            throw new TrainingDivergedException(epoch, loss, plan.Optimizer.FullBatch ? null : plan.LearningRate);
        return (loss, accuracy);
    }

    /// <summary>The result, with the stopping rule that ended the run in words.</summary>
    /// <param name="bestEpoch">The epoch early stopping kept (0: none, the last).</param>
    internal static TrainResult Result(TrainPlan plan, float[] theta, List<EpochReport> history, int bestEpoch, bool stopped,
        double? objective, string? converged, string details, int patience)
    {
        bool miniBatch = !plan.Optimizer.FullBatch;
        string stop = converged ?? (stopped
            ? $"no lower validation loss in {patience} epochs (kept epoch {bestEpoch})"
            : miniBatch ? $"ran the planned {plan.Epochs} epochs" : $"reached the iteration limit ({plan.Epochs})");
        return new TrainResult(theta, history, bestEpoch == 0 ? history.Count : bestEpoch, stopped, plan)
        {
            Objective = objective,
            Converged = converged is not null || miniBatch,
            StopReason = stop,
            Summary = $"{plan.Optimizer.Name}: {history.Count} {(miniBatch ? "epochs" : "iterations")}" +
                      (details.Length > 0 ? $", {details}" : "") + $"; stopped: {stop}",
        };
    }

    public void Dispose()
    {
        if (disposed)
            return;
        disposed = true;
        engine.Dispose();
        valData?.Dispose();
        trainData.Dispose();
    }
}
