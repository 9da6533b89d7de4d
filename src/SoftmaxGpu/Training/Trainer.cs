using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Training;

/// <summary>Rows ready for the device: standardized X [N, D], class indices y [N], optional soft targets [N, K].</summary>
public sealed record EncodedSet(float[] Features, int[] Labels, float[]? Targets, int Rows, int Dim);

/// <summary>What one epoch (an L-BFGS iteration) did; validation figures are null without a validation set.</summary>
public sealed record EpochReport(int Epoch, int Epochs, double TrainLoss, double TrainAccuracy, double? ValLoss,
    double? ValAccuracy, TimeSpan Elapsed)
{
    /// <summary>J = mean CE + (λ/2)‖W‖² over the whole training set, where the optimizer computes it (L-BFGS).</summary>
    public double? Objective { get; init; }
}

/// <summary>The parameters theta = [W | b] after training (the best validation epoch's when stopping early).</summary>
public sealed record TrainResult(float[] Theta, IReadOnlyList<EpochReport> History, int BestEpoch, bool StoppedEarly)
{
    /// <summary>J = mean CE + (λ/2)‖W‖² of the returned θ over the whole training set, where the optimizer
    /// computes it (L-BFGS); SGD and Adam report the epoch's running loss instead, without an extra pass.</summary>
    public double? Objective { get; init; }

    /// <summary>A line on how the optimizer ended, where it has one to say.</summary>
    public string? Summary { get; init; }
}

/// <summary>
/// Mini-batch (or full-batch) training of softmax regression, every step on the accelerator:
/// shuffle (per epoch) → batch gradient (<see cref="BatchGradient"/>: logits, softmax, loss, G = (Q − Y)/B,
/// dW = Gᵀ·X, db = Σ G) → optimizer step. The host only launches kernels: nothing is allocated or read back
/// per step, and two numbers per epoch (loss, correct count) per set are read back.
/// </summary>
public static class Trainer
{
    public static TrainResult Train(Gpu gpu, EncodedSet train, EncodedSet? validation, int k, TrainOptions options,
        Action<EpochReport>? onEpoch = null)
    {
        options.Validate();
        if (options.Optimizer == "lbfgs")
            return Lbfgs.Train(gpu, train, validation, k, options, onEpoch);
        Accelerator accelerator = gpu.Accelerator;
        KernelSet kernels = gpu.Kernels;
        int n = train.Rows;
        int d = train.Dim;
        int batch = options.BatchSize == 0 || options.BatchSize > n ? n : options.BatchSize;
        bool fullBatch = batch == n;
        int epochs = options.EpochsFor(n);
        int stepsPerEpoch = (n + batch - 1) / batch;
        long totalSteps = (long)epochs * stepsPerEpoch;
        int penalized = k * d;

        // Device-resident data. X: [N, D]; y: [N]; Y: [N, K] for soft targets (absent: an empty view).
        using var x = accelerator.Allocate1D(train.Features);
        using var y = accelerator.Allocate1D(train.Labels);
        using var targets = Upload(accelerator, train.Targets);
        using var valX = Upload(accelerator, validation?.Features);
        using var valY = Upload(accelerator, validation?.Labels);
        using var valTargets = Upload(accelerator, validation?.Targets);

        // Parameters and forward buffers; the batch gradient; optimizer state. Nothing is allocated per step.
        bool fused = options.Fused ?? kernels.FusedStep.Preferred(batch, d, k);
        using var model = new DeviceModel(accelerator, kernels, d, k, ForwardRows(fused, batch));
        using var gradient = new BatchGradient(accelerator, kernels, model, batch, fused, train.Targets is not null);
        using var order = accelerator.Allocate1D<int>(n);
        using var grad = accelerator.Allocate1D<float>(model.Theta.Length);
        using var moment1 = accelerator.Allocate1D<float>(model.Theta.Length);
        using var moment2 = accelerator.Allocate1D<float>(model.Theta.Length);
        using var best = accelerator.Allocate1D<float>(model.Theta.Length);
        moment1.MemSetToZero();
        moment2.MemSetToZero();

        var history = new List<EpochReport>();
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0;
        bool stoppedEarly = false;
        long step = 0;
        var clock = Stopwatch.StartNew();

        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            // The epoch's shuffle, drawn on the device; each batch reads its rows through it.
            if (!fullBatch)
                kernels.Shuffle.Launch(n, Shuffle.Key(options.Seed, epoch), order.View);
            model.Totals.MemSetToZero();

            for (int start = 0; start < n; start += batch)
            {
                int rows = Math.Min(batch, n - start);
                ArrayView<int> rowsOfBatch = fullBatch ? default : order.View.SubView(start, rows);
                // ∇ mean CE of the batch into grad; its loss (scaled by 1/N: the sum is the epoch mean) into Totals.
                gradient.Compute(x.View, rowsOfBatch, y.View, View(targets), rows, 1f / n, grad.View);

                step++;
                float lr = LearningRate(options, step, totalSteps);
                if (options.Optimizer == "adam")
                    kernels.Adam.Launch(grad.View, new AdamParameters(lr, TrainOptions.AdamBeta1, TrainOptions.AdamBeta2,
                        TrainOptions.AdamEpsilon, options.WeightDecay, step, penalized), moment1.View, moment2.View, model.Theta.View);
                else
                    kernels.Sgd.Launch(grad.View, new SgdParameters(lr, options.Momentum, options.WeightDecay,
                        options.Nesterov, penalized), moment1.View, model.Theta.View);
            }

            float[] totals = model.Totals.GetAsArray1D();
            double trainLoss = totals[0];
            double trainAccuracy = totals[1] / n;
            if (!double.IsFinite(trainLoss))
                throw new TrainingDivergedException(epoch, trainLoss, options.LearningRate);

            double? valLoss = null, valAccuracy = null;
            if (validation is not null)
            {
                (double loss, double accuracy) = model.Evaluate(valX!.View, valY!.View, View(valTargets), validation.Rows);
                if (!double.IsFinite(loss))
                    throw new TrainingDivergedException(epoch, loss, options.LearningRate);
                (valLoss, valAccuracy) = (loss, accuracy);
            }

            var report = new EpochReport(epoch, epochs, trainLoss, trainAccuracy, valLoss, valAccuracy, clock.Elapsed);
            history.Add(report);
            onEpoch?.Invoke(report);

            if (valLoss is double current && options.Patience > 0)
            {
                if (current < bestLoss)
                {
                    bestLoss = current;
                    bestEpoch = epoch;
                    model.Theta.View.CopyTo(best.View);
                }
                else if (epoch - bestEpoch >= options.Patience)
                {
                    stoppedEarly = true;
                    best.View.CopyTo(model.Theta.View);
                    break;
                }
            }
        }

        if (!stoppedEarly && bestEpoch > 0 && bestEpoch != history.Count)
            best.View.CopyTo(model.Theta.View);
        return new TrainResult(model.Theta.GetAsArray1D(), history, bestEpoch == 0 ? history.Count : bestEpoch, stoppedEarly);
    }

    /// <summary>A device copy of <paramref name="data"/>, or null for none (ILGPU cannot allocate zero elements).</summary>
    internal static MemoryBuffer1D<T, Stride1D.Dense>? Upload<T>(Accelerator accelerator, T[]? data) where T : unmanaged =>
        data is null ? null : accelerator.Allocate1D(data);

    /// <summary>
    /// Rows of the model's forward buffers for batches of <paramref name="batch"/> rows: the per-operation path
    /// computes each batch in them; the fused pass only evaluates sets through them, in blocks.
    /// </summary>
    internal static int ForwardRows(bool fused, int batch) => fused ? Math.Min(batch, DeviceModel.EvaluationBlockRows) : batch;

    /// <summary>The buffer's view, or an empty view for an absent buffer.</summary>
    internal static ArrayView<float> View(MemoryBuffer1D<float, Stride1D.Dense>? buffer) =>
        buffer is null ? default : buffer.View;

    /// <summary>η at step t of T: constant, or cosine decay from η to 0.</summary>
    public static float LearningRate(TrainOptions options, long step, long totalSteps) =>
        options.Schedule == "constant"
            ? options.LearningRate
            : (float)(options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * (step - 1) / totalSteps)));
}
