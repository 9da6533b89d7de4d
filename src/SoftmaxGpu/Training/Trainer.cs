using System.Diagnostics;
using ILGPU.Runtime;
using SoftmaxGpu.Devices;

namespace SoftmaxGpu.Training;

/// <summary>
/// The training loop every optimizer shares: resolve the options (<see cref="TrainPlan"/>), upload the sets,
/// make the engine and the optimizer, then each epoch (an L-BFGS iteration) — optimizer → divergence check →
/// validation → report → early stopping — until the optimizer converges or the epochs run out.
/// </summary>
public static class Trainer
{
    /// <param name="train">Standardized rows with class indices: an <see cref="EncodedSet"/> in memory, or a file read in blocks.</param>
    public static TrainResult Train(Gpu gpu, IRowSource train, IRowSource? validation, int k, TrainOptions options,
        Action<EpochReport>? onEpoch = null)
    {
        int rows = checked((int)train.Rows);
        TrainPlan plan = TrainPlan.Resolve(options, gpu.Accelerator.MemorySize, rows, train.Dim, k, validation?.Rows ?? 0);
        using TrainingData trainData = Upload(gpu, train, plan);
        using TrainingData? valData = validation is null ? null : Upload(gpu, validation, plan);
        using var engine = new GradientEngine(gpu, options.Loss, train.Dim, k, plan.EngineRows, options.Fused,
            train is EncodedSet { Targets: not null }, (int)Math.Min(plan.BlockRows, Math.Max(rows, validation?.Rows ?? 0)));
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
                clock.Elapsed) { Objective = last.Objective, RowsRead = rowsRead += (long)last.Passes * rows };
            history.Add(report);
            onEpoch?.Invoke(report);
            best.Observe(epoch, valLoss);
        }
        best.Restore(history.Count);
        // J of the θ kept, where the optimizer computed it for that θ (L-BFGS); no extra pass over the data for it.
        double? objective = best.Restored ? null : last?.Objective;
        return Result(plan, engine.Theta.GetAsArray1D(), history, best, objective, last?.Converged, optimizer.Details,
            options.Patience);
    }

    /// <summary>A set on the device as the plan says: resident, or streamed in blocks of the plan's rows.</summary>
    private static TrainingData Upload(Gpu gpu, IRowSource set, TrainPlan plan) =>
        TrainingData.Streamed(gpu.Accelerator, set, plan.Streamed ? plan.BlockRows : int.MaxValue);

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
