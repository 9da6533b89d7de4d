using ILGPU.Runtime;
using System.Diagnostics;
using SoftmaxGpu.Devices;

namespace SoftmaxGpu.Training;

/// <summary>
/// The training loop every optimizer shares: resolve the options (<see cref="TrainPlan"/>), upload the sets,
/// make the engine and the optimizer, then each epoch (an L-BFGS iteration) — optimizer → divergence check →
/// validation → report → early stopping — until the optimizer converges or the epochs run out; J of the kept θ
/// at the end.
/// </summary>
public static class Trainer
{
    public static TrainResult Train(Gpu gpu, EncodedSet train, EncodedSet? validation, int k, TrainOptions options,
        Action<EpochReport>? onEpoch = null)
    {
        TrainPlan plan = TrainPlan.Resolve(options, gpu.Accelerator.MemorySize, train.Rows, train.Dim, k, validation?.Rows ?? 0);
        using var trainData = new DeviceSet(gpu.Accelerator, train);
        using DeviceSet? valData = validation is null ? null : new DeviceSet(gpu.Accelerator, validation);
        using var engine = new GradientEngine(gpu, options.Loss, train.Dim, k, plan.BatchRows, options.Fused,
            train.Targets is not null);
        using IOptimizer optimizer = plan.Optimizer.Create(new OptimizerContext(gpu, engine, trainData, options, plan));
        var best = new BestEpoch(gpu.Accelerator, engine, options.Patience);

        var history = new List<EpochReport>();
        var clock = Stopwatch.StartNew();
        string? converged = null;
        double? objective = null;
        for (int epoch = 1; epoch <= plan.Epochs && converged is null && !best.Stopped; epoch++)
        {
            EpochOutcome outcome = optimizer.Run(epoch);
            if (!double.IsFinite(outcome.TrainLoss))
                throw new TrainingDivergedException(epoch, outcome.TrainLoss, plan.LearningRate);
            (double? valLoss, double? valAccuracy) = (null, null);
            if (valData is not null)
            {
                (double loss, double accuracy) = engine.Evaluate(valData);
                if (!double.IsFinite(loss))
                    throw new TrainingDivergedException(epoch, loss, plan.LearningRate);
                (valLoss, valAccuracy) = (loss, accuracy);
            }
            var report = new EpochReport(epoch, plan.Epochs, outcome.TrainLoss, outcome.TrainAccuracy, valLoss,
                valAccuracy, clock.Elapsed) { Objective = outcome.Objective, RowsRead = (long)epoch * train.Rows };
            history.Add(report);
            onEpoch?.Invoke(report);
            best.Observe(epoch, valLoss);
            (converged, objective) = (outcome.Converged, outcome.Objective);
        }
        best.Restore(history.Count);

        bool miniBatch = !plan.Optimizer.FullBatch;
        string stop = converged ?? (best.Stopped
            ? $"no lower validation loss in {options.Patience} epochs (kept epoch {best.Epoch})"
            : miniBatch ? $"ran the planned {plan.Epochs} epochs" : $"reached the iteration limit ({plan.Epochs})");
        if (best.Restored || objective is null)
            objective = engine.Objective(trainData, plan.WeightDecay).Objective;
        string details = optimizer.Details;
        return new TrainResult(engine.Theta.GetAsArray1D(), history, best.Epoch == 0 ? history.Count : best.Epoch,
            best.Stopped, plan)
        {
            Objective = objective.Value,
            Converged = converged is not null || miniBatch,
            StopReason = stop,
            Summary = $"{plan.Optimizer.Name}: {history.Count} {(miniBatch ? "epochs" : "iterations")}" +
                      (details.Length > 0 ? $", {details}" : "") + $"; stopped: {stop}",
        };
    }
}
