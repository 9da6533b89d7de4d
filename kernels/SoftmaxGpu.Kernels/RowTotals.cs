using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// How a per-row loss kernel (<see cref="CrossEntropy"/>, a head's <see cref="HeadKernels{THead}.ForwardKernel{TVariant}"/>) hands on its sums:
/// groups take contiguous chunks of rows, each thread sums its rows' loss and hits, and the group writes one
/// partial (scale·Σ loss, correct) that <see cref="PartialSum"/> adds in group order (so the result does not depend
/// on timing), or adds straight into the totals when the launch has one group. Owns the [groups, 2] partials.
/// </summary>
public sealed class RowTotals
{
    /// <summary>Groups per multiprocessor: enough to keep the device reading while each group's partial stays tiny.</summary>
    public const int GroupsPerMultiprocessor = 4;

    private readonly LaunchShape shape;
    private readonly PartialSum sum;
    // [groups, 2]: allocated once; launches on one stream run in order, so they can share it.
    private readonly MemoryBuffer1D<float, Stride1D.Dense> partials;

    public RowTotals(Accelerator accelerator, LaunchShape shape, PartialSum sum)
    {
        this.shape = shape;
        this.sum = sum;
        partials = accelerator.Allocate1D<float>(2L * MaxGroups);
    }

    /// <summary>The partials a launch writes: [groups, 2].</summary>
    public ArrayView<float> Partials => partials.View;

    /// <summary>Most groups a launch uses: the partial buffer's rows.</summary>
    private int MaxGroups => shape.Multiprocessors * GroupsPerMultiprocessor;

    /// <summary>A launch over <paramref name="rows"/> rows: power-of-two groups of up to the reduction size, enough rows each.</summary>
    public KernelConfig Config(int rows)
    {
        int threads = Math.Min(shape.ReductionGroup, LaunchShape.CeilPow2(Math.Max(1, rows)));
        int perGroup = Math.Max(threads, shape.ReductionRowsPerGroup);
        int groups = Math.Clamp((rows + perGroup - 1) / perGroup, 1, MaxGroups);
        return new KernelConfig(groups, threads, shape.Shared(threads, LaunchShape.MaxReductionGroup));
    }

    /// <summary>After a launch of <paramref name="config"/>: the groups' partials added into the totals.</summary>
    public void Finish(KernelConfig config, ArrayView<float> loss, ArrayView<int> correct)
    {
        if (config.GridDim.X > 1)
            sum.Launch(partials.View, config.GridDim.X, 2, default, loss, correct);
    }

    /// <summary>In the kernel: this group's contiguous chunk [first, last) of the rows (the groups split them evenly).</summary>
    public static void GroupRows(int rows, out int first, out int last)
    {
        int chunk = (rows + Grid.DimX - 1) / Grid.DimX;
        first = Grid.IdxX * chunk;
        last = Math.Min(rows, first + chunk);
    }

    /// <summary>
    /// In the kernel, by every thread of the group: the threads' loss and hit counts reduced through shared memory,
    /// then thread 0 writes the group's (scale·Σ loss, correct) to its partial, or adds it to the totals when the
    /// grid is one group.
    /// </summary>
    /// <param name="scratch">[threads] shared floats.</param>
    public static void Write(ArrayView<float> scratch, float threadLoss, float threadCorrect, float scale,
        ArrayView<float> partials, ArrayView<float> loss, ArrayView<int> correct)
    {
        float lossSum = GroupReduce.Sum(scratch, threadLoss);
        float correctSum = GroupReduce.Sum(scratch, threadCorrect);
        if (Group.IdxX == 0 && Grid.DimX == 1)
        {
            Totals.AddLoss(loss, scale * lossSum);
            correct[0] += Totals.Count(correctSum);
        }
        else if (Group.IdxX == 0)
        {
            partials[2 * Grid.IdxX] = scale * lossSum;
            partials[2 * Grid.IdxX + 1] = correctSum;
        }
    }
}
