using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Training;

/// <summary>
/// The epoch of every mini-batch optimizer: shuffle the rows on the device (a keyed permutation per epoch),
/// then for each batch the engine's gradient and one update of θ by <see cref="Step"/>. The host only
/// launches kernels: two numbers (loss, correct count) are read back per epoch. A new first-order optimizer
/// is a subclass with its update and its state buffers.
/// </summary>
public abstract class MiniBatchOptimizer : IOptimizer
{
    private readonly MemoryBuffer1D<int, Stride1D.Dense>? order;
    private readonly long totalSteps;
    private long step;

    protected MiniBatchOptimizer(OptimizerContext context)
    {
        Context = context;
        int n = context.Train.Rows;
        int batch = context.Plan.BatchRows;
        order = batch < n ? context.Gpu.Accelerator.Allocate1D<int>(n) : null;
        totalSteps = (long)context.Plan.Epochs * ((n + batch - 1) / batch);
    }

    protected OptimizerContext Context { get; }
    protected GradientEngine Engine => Context.Engine;
    protected KernelSet Kernels => Context.Gpu.Kernels;
    /// <summary>λ of the (λ/2)‖W‖² term, applied to the first <see cref="GradientEngine.Penalized"/> parameters.</summary>
    protected float WeightDecay => (float)Context.Plan.WeightDecay;

    public EpochOutcome Run(int epoch)
    {
        DeviceSet train = Context.Train;
        int n = train.Rows;
        int batch = Context.Plan.BatchRows;
        if (order is not null)
            Kernels.Shuffle.Launch(n, Shuffle.Key(Context.Options.Seed, epoch), order.View);
        Engine.ResetTotals();
        for (int start = 0; start < n; start += batch)
        {
            int rows = Math.Min(batch, n - start);
            // ∇ mean loss of the batch into Grad; its loss, scaled by 1/N so the epoch's sum is its mean, into the totals.
            Engine.Gradient(train, order is null ? default : order.View.SubView(start, rows), rows, 1f / n);
            step++;
            Step(Context.Plan.Schedule.Rate(Context.Plan.LearningRate, step, totalSteps), step);
        }
        (double loss, double correct) = Engine.ReadTotals();
        return new EpochOutcome(loss, correct / n);
    }

    /// <summary>θ ← update of θ by <see cref="GradientEngine.Grad"/> at update <paramref name="step"/> (1-based).</summary>
    protected abstract void Step(float learningRate, long step);

    public virtual void Dispose()
    {
        order?.Dispose();
        GC.SuppressFinalize(this);
    }
}
