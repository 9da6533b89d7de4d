using System.Diagnostics;
using ILGPU.Runtime;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Distributed;

namespace SoftmaxGpu.Training;

/// <summary>
/// The training loop every optimizer shares: resolve the options (<see cref="TrainPlan"/>), upload the sets,
/// make the engine and the optimizer, then each epoch (an L-BFGS iteration) — optimizer → divergence check →
/// validation → report → early stopping — until the optimizer converges or the epochs run out.
///
/// With several ranks (<see cref="TrainOptions.Ranks"/>) every rank runs this same loop on its own shard of the
/// rows (<see cref="Shards"/>); the engine sums gradients and losses over the ranks, so each rank sees the
/// whole set's numbers and makes the same decisions. The ranks first check that they agree on the data and the
/// plan (<see cref="Consensus"/>), and last that they ended on the same θ.
/// </summary>
public static class Trainer
{
    /// <param name="train">Standardized rows with class indices and, where they have them, target rows: an
    /// <see cref="EncodedSet"/> in memory, or a file read in blocks (<see cref="IRowSource"/>).</param>
    public static TrainResult Train(Gpu gpu, IRowSource train, IRowSource? validation, int k, TrainOptions options,
        Action<EpochReport>? onEpoch = null)
    {
        ICommunicator ranks = options.Ranks;
        (IRowSource shard, IRowSource? validationShard) = (ShardOf(train, ranks, "training"),
            validation is null ? null : ShardOf(validation, ranks, "validation"));
        int rows = checked((int)shard.Rows);
        TrainPlan plan = TrainPlan.Resolve(options, gpu.Accelerator.MemorySize, rows, train.Dim, k, validationShard?.Rows ?? 0,
            train.Rows, checked((int)Shards.MostRows(train.Rows, ranks.Size)), Math.Max(train.TargetWidth, validation?.TargetWidth ?? 0));
        Consensus.Require(ranks, "the training plan", Consensus.Describe(options, plan, train, validation, k));
        using TrainingData trainData = Upload(gpu, shard, plan, train.Rows);
        using TrainingData? valData = validation is null ? null : Upload(gpu, validationShard!, plan, validation.Rows);
        using var engine = new GradientEngine(gpu, options.Loss, train.Dim, k, plan.EngineRows, options.Fused,
            train.TargetWidth > 0, (int)Math.Min(plan.BlockRows, Math.Max(rows, validationShard?.Rows ?? 0)),
            ranks);
        if (options.InitialTheta is float[] start)
        {
            if (start.Length != engine.Theta.Length)
                throw new ArgumentException($"the initial θ has {start.Length} parameters; a model of {train.Dim} features and " +
                                            $"{k} classes has {engine.Theta.Length}");
            engine.Theta.CopyFromCPU(start);
        }
        using IOptimizer optimizer = plan.Optimizer.Create(new OptimizerContext(gpu, engine, trainData, options, plan));
        using var best = new BestEpoch(gpu.Accelerator, engine, options.Patience);

        var history = new List<EpochReport>();
        var clock = Stopwatch.StartNew();
        EpochOutcome? last = null;
        long rowsRead = 0;
        for (int epoch = 1; epoch <= plan.Epochs && last?.Converged is null && !best.Stopped; epoch++)
        {
            last = optimizer.Run(epoch);
            if (!double.IsFinite(last.TrainLoss))
                throw new TrainingDivergedException(epoch, last.TrainLoss, plan.LearningRate);
            (double? valLoss, double? valAccuracy) = Validate(engine, valData, epoch, plan);
            var report = new EpochReport(epoch, plan.Epochs, last.TrainLoss, last.TrainAccuracy, valLoss, valAccuracy,
                clock.Elapsed) { Objective = last.Objective, RowsRead = rowsRead += last.Passes * train.Rows };
            history.Add(report);
            onEpoch?.Invoke(report);
            best.Observe(epoch, valLoss);
        }
        best.Restore(history.Count);
        // J of the θ kept, where the optimizer computed it for that θ (L-BFGS); no extra pass over the data for it.
        double? objective = best.Restored ? null : last?.Objective;
        float[] theta = engine.Theta.GetAsArray1D();
        Consensus.Require(ranks, "the trained θ (their steps drifted apart)", Consensus.Bits(theta));
        return Result(plan, theta, history, best, objective, last?.Converged, optimizer.Details, options.Patience);
    }

    /// <summary>A set on the device as the plan says: resident, or streamed in blocks of the plan's rows.</summary>
    /// <param name="totalRows">Rows of the whole set, of which <paramref name="set"/> is this rank's shard.</param>
    private static TrainingData Upload(Gpu gpu, IRowSource set, TrainPlan plan, long totalRows) =>
        TrainingData.Streamed(gpu.Accelerator, set, plan.Streamed ? plan.BlockRows : int.MaxValue, totalRows);

    /// <summary>This rank's shard of a set (the set itself alone); every rank needs at least one row.</summary>
    private static IRowSource ShardOf(IRowSource set, ICommunicator ranks, string what) =>
        set.Rows >= ranks.Size ? Shards.Of(set, ranks)
            : throw new ArgumentException($"the {what} set's {set.Rows} rows cannot be shared by {ranks.Size} ranks: " +
                                          "each needs at least one (run fewer ranks)");

    /// <summary>Mean loss and accuracy of the validation set under the current θ, or nulls without one.</summary>
    private static (double? Loss, double? Accuracy) Validate(GradientEngine engine, TrainingData? validation, int epoch, TrainPlan plan)
    {
        if (validation is null)
            return (null, null);
        (double loss, double accuracy) = engine.Evaluate(validation);
        if (!double.IsFinite(loss))
            throw new TrainingDivergedException(epoch, loss, plan.LearningRate);
        return (loss, accuracy);
    }

    /// <summary>The result, with the stopping rule that ended the run in words.</summary>
    private static TrainResult Result(TrainPlan plan, float[] theta, List<EpochReport> history, BestEpoch best,
        double? objective, string? converged, string details, int patience)
    {
        bool miniBatch = !plan.Optimizer.FullBatch;
        string stop = converged ?? (best.Stopped
            ? $"no lower validation loss in {patience} epochs (kept epoch {best.Epoch})"
            : miniBatch ? $"ran the planned {plan.Epochs} epochs" : $"reached the iteration limit ({plan.Epochs})");
        return new TrainResult(theta, history, best.Epoch == 0 ? history.Count : best.Epoch, best.Stopped, plan)
        {
            Objective = objective,
            Converged = converged is not null || miniBatch,
            StopReason = stop,
            Summary = $"{plan.Optimizer.Name}: {history.Count} {(miniBatch ? "epochs" : "iterations")}" +
                      (details.Length > 0 ? $", {details}" : "") + $"; stopped: {stop}",
        };
    }
}
