using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Training;

/// <summary>
/// The epoch of every mini-batch optimizer: the rows in a seeded order that changes every epoch, cut into
/// batches of B rows, one gradient and one update of θ by <see cref="Step"/> per batch. A resident set is
/// shuffled on the device (a keyed permutation of its rows). A set streamed from host memory is staged in blocks
/// from the same permutation, so it trains on the same batches as resident training, whatever the device
/// memory. A set streamed from a file visits its blocks in a seeded order and shuffles the rows within each
/// block on the device. A batch that runs over the end of a block sums its gradient over the blocks it spans
/// before its update; a full batch (--batch-size 0) sums over every block. The host only launches kernels: two
/// numbers (loss, correct count) are read back per epoch. A new first-order optimizer is a subclass with its
/// update and its state buffers.
///
/// Across ranks each rank draws batches of B rows from its own shard and every update is synchronous: the
/// step's gradient is the mean over all ranks' batches (a global batch of P·B rows), all-reduced before the
/// update. Every rank makes ⌈largest shard / B⌉ updates an epoch; a rank whose shard ran out first joins the
/// last one with an empty batch.
/// </summary>
public abstract class MiniBatchOptimizer : IOptimizer
{
    // Rows of the current block in batch order: the permutation (resident), a block shuffle, or 0, 1, … (gathered).
    private readonly MemoryBuffer1D<int, Stride1D.Dense>? order;
    private readonly long totalSteps;
    private long step;
    private readonly int stepsPerEpoch;
    private int stepsThisEpoch;
    // Progress through the epoch's batches: rows already summed, and where the current batch began.
    private int rowsDone;
    private int batchStart;

    protected MiniBatchOptimizer(OptimizerContext context)
    {
        Context = context;
        TrainingData train = context.Train;
        int batch = context.Plan.BatchRows;
        // The largest shard's rows (the set's alone, or where the plan was made by hand): every rank decides alike.
        int most = Math.Max(context.Plan.MostRows, train.Rows);
        FullBatch = batch >= most;
        order = FullBatch ? null : context.Gpu.Accelerator.Allocate1D<int>(train.BlockRows);
        if (order is not null && train.CanGather)
            order.CopyFromCPU(Enumerable.Range(0, train.BlockRows).ToArray());
        stepsPerEpoch = (most + batch - 1) / batch; // 1 for a full batch
        totalSteps = (long)context.Plan.Epochs * stepsPerEpoch;
    }

    protected OptimizerContext Context { get; }
    protected GradientEngine Engine => Context.Engine;
    protected KernelSet Kernels => Context.Gpu.Kernels;
    /// <summary>λ of the objective's (λ/2)‖W‖² term, which the update kernels apply to θ's first <see cref="Penalized"/> parameters.</summary>
    protected float WeightDecay => (float)Context.Objective.L2.Lambda;

    /// <summary>Parameters the update kernels penalize: the L2 term's block, which must be a prefix of θ.</summary>
    protected int Penalized => Context.Objective.L2.Block is { Offset: 0 } block
        ? checked((int)block.Length)
        : throw new InvalidOperationException("the update kernels penalize a prefix of θ; this L2 block is not one");
    /// <summary>One update per epoch on the whole set (--batch-size 0).</summary>
    private bool FullBatch { get; }

    public EpochOutcome Run(int epoch)
    {
        TrainingData train = Context.Train;
        int seed = Context.Options.Seed;
        Engine.ResetTotals();
        (rowsDone, batchStart, stepsThisEpoch) = (0, 0, 0);
        if (FullBatch)
        {
            Engine.FullBatchGradient(train); // summed over the ranks already
            Update();
        }
        else if (train.CanGather)
        {
            train.ForEachGathered(Permutation(train.Rows, Shuffle.Key(seed, epoch)), (part, rows) => Batches(part, rows));
        }
        else
        {
            train.ForEachBlock(BlockOrder(epoch), (block, part, rows) =>
            {
                Kernels.Shuffle.Launch(rows, Shuffle.Key(seed, epoch, block), order!.View);
                Batches(part, rows);
            });
        }
        if (!FullBatch)
        {
            while (stepsThisEpoch < stepsPerEpoch) // this rank's shard is shorter: an empty batch in the others' last update
                Update(batchRows: 0);
            Engine.Reduce(gradient: false, totals: true);
        }
        (double loss, long correct) = Engine.ReadTotals();
        return new EpochOutcome(loss, (double)correct / train.TotalRows);
    }

    /// <summary>
    /// The block's rows, taken in <see cref="order"/>, into the epoch's batches: each part of a batch adds its
    /// share (1/B of its summed gradient) to Grad, and the part that completes a batch is followed by its update.
    /// </summary>
    private void Batches(DeviceSet part, int rows)
    {
        int n = Context.Train.Rows;
        for (int start = 0; start < rows;)
        {
            int batchRows = Math.Min(Context.Plan.BatchRows, n - batchStart);
            int count = Math.Min(rows - start, batchStart + batchRows - rowsDone);
            // ∇ mean loss of the batch into Grad; its loss, scaled by 1/N so the epoch's sum is its mean, into the totals.
            Engine.Gradient(part, order!.View.SubView(start, count), count, 1f / Context.Train.TotalRows, 1f / batchRows,
                accumulate: rowsDone > batchStart);
            (start, rowsDone) = (start + count, rowsDone + count);
            if (rowsDone == batchStart + batchRows)
            {
                Update(batchRows);
                batchStart = rowsDone;
            }
        }
    }

    /// <summary>One update of θ; with <paramref name="batchRows"/>, after the mean gradient over every rank's batch.</summary>
    private void Update(int? batchRows = null)
    {
        if (batchRows is int rows)
            Engine.ReduceBatchGradient(rows);
        stepsThisEpoch++;
        step++;
        Step(Context.Plan.Schedule.Rate(Context.Plan.LearningRate, step, totalSteps), step);
    }

    /// <summary>The epoch's permutation of the rows, computed on the host: the one the device's shuffle makes.</summary>
    private static int[] Permutation(int n, uint key)
    {
        var rows = new int[n];
        int half = Shuffle.HalfBits(n);
        Parallel.For(0, n, i => rows[i] = Shuffle.Permute(i, n, half, key));
        return rows;
    }

    /// <summary>A streamed file's blocks in an order drawn from (seed, epoch); null (one block) when resident.</summary>
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
