using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Training;

/// <summary>
/// The epoch of every mini-batch optimizer: shuffle the rows on the device (a keyed permutation per epoch),
/// then for each batch the engine's gradient and one update of θ by <see cref="Step"/>. A set streamed in blocks
/// visits its blocks in a seeded order that changes every epoch and shuffles the rows within each block; a batch
/// never straddles two blocks, and a full batch sums its gradient over every block before its one update. The
/// host only launches kernels: two numbers (loss, correct count) are read back per epoch. A new first-order
/// optimizer is a subclass with its update and its state buffers.
/// </summary>
public abstract class MiniBatchOptimizer : IOptimizer
{
    private readonly MemoryBuffer1D<int, Stride1D.Dense>? order;
    private readonly long totalSteps;
    private long step;

    protected MiniBatchOptimizer(OptimizerContext context)
    {
        Context = context;
        TrainingData train = context.Train;
        int batch = context.Plan.BatchRows;
        FullBatch = batch >= train.Rows;
        order = FullBatch ? null : context.Gpu.Accelerator.Allocate1D<int>(train.BlockRows);
        int updatesPerEpoch = FullBatch ? 1 : Enumerable.Range(0, train.Blocks).Sum(b => (train.RowsOf(b) + batch - 1) / batch);
        totalSteps = (long)context.Plan.Epochs * updatesPerEpoch;
    }

    protected OptimizerContext Context { get; }
    protected GradientEngine Engine => Context.Engine;
    protected KernelSet Kernels => Context.Gpu.Kernels;
    /// <summary>λ of the (λ/2)‖W‖² term, applied to the first <see cref="GradientEngine.Penalized"/> parameters.</summary>
    protected float WeightDecay => (float)Context.Plan.WeightDecay;
    /// <summary>One update per epoch on the whole set (--batch-size 0).</summary>
    private bool FullBatch { get; }

    public EpochOutcome Run(int epoch)
    {
        TrainingData train = Context.Train;
        int n = train.Rows;
        Engine.ResetTotals();
        if (FullBatch)
        {
            Engine.FullBatchGradient(train);
            Update();
        }
        else
        {
            train.ForEachBlock(BlockOrder(epoch), (block, part, rows) => Batches(epoch, block, part, rows));
        }
        (double loss, double correct) = Engine.ReadTotals();
        return new EpochOutcome(loss, correct / n);
    }

    /// <summary>The block's rows shuffled on the device, then one update per batch of them.</summary>
    private void Batches(int epoch, int block, DeviceSet part, int rows)
    {
        int batch = Context.Plan.BatchRows;
        Kernels.Shuffle.Launch(rows, Shuffle.Key(Context.Options.Seed, epoch, block), order!.View);
        for (int start = 0; start < rows; start += batch)
        {
            int count = Math.Min(batch, rows - start);
            // ∇ mean loss of the batch into Grad; its loss, scaled by 1/N so the epoch's sum is its mean, into the totals.
            Engine.Gradient(part, order.View.SubView(start, count), count, 1f / Context.Train.Rows);
            Update();
        }
    }

    private void Update()
    {
        step++;
        Step(Context.Plan.Schedule.Rate(Context.Plan.LearningRate, step, totalSteps), step);
    }

    /// <summary>A streamed set's blocks in an order drawn from (seed, epoch); null (one block) when resident.</summary>
    private int[]? BlockOrder(int epoch)
    {
        if (!Context.Train.IsStreamed)
            return null;
        int[] blocks = Enumerable.Range(0, Context.Train.Blocks).ToArray();
        new Random((int)Shuffle.Key(Context.Options.Seed, epoch)).Shuffle(blocks);
        return blocks;
    }

    /// <summary>θ ← update of θ by <see cref="GradientEngine.Grad"/> at update <paramref name="step"/> (1-based).</summary>
    protected abstract void Step(float learningRate, long step);

    public virtual void Dispose()
    {
        order?.Dispose();
        GC.SuppressFinalize(this);
    }
}
