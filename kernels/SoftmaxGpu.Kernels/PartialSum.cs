using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// Adds up per-group partials: column sums of a [groups, P] matrix, in group order (deterministic). For
/// <see cref="FusedStep"/> and <see cref="CrossEntropy"/> the first sums are the gradient (none for the
/// latter) and the last two (loss, correct count) are added to the running <see cref="Totals"/>, so an epoch's
/// figures build up on the device and are read once; for a split-K <see cref="MatMul"/> every column is a sum.
/// </summary>
public sealed class PartialSum
{
    // Compiled at the first launch: several kernels own a PartialSum that small batches never launch.
    private readonly Lazy<Action<KernelConfig, ArrayView<float>, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<int>>> kernel;
    private readonly LaunchShape shape;

    public PartialSum(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        kernel = new(() => accelerator.LoadStreamKernel<ArrayView<float>, int, int, int, ArrayView<float>,
            ArrayView<float>, ArrayView<int>>(PartialSumKernel));
    }

    /// <summary>One thread per column (grid-stride), summing down the groups: reads are coalesced along P.</summary>
    /// <param name="partials">[groups, P] partial sums.</param>
    /// <param name="groups">Rows of <paramref name="partials"/> in use.</param>
    /// <param name="length">P.</param>
    /// <param name="gradLength">Columns summed into grad; the two after them (loss, correct count) are added to the totals.</param>
    /// <param name="grad">[gradLength]: the sums, overwritten.</param>
    /// <param name="loss">[2]: the compensated loss total (<see cref="Totals"/>), added to.</param>
    /// <param name="correct">[1]: the correct count, added to.</param>
    public static void PartialSumKernel(ArrayView<float> partials, int groups, int length, int gradLength,
        ArrayView<float> grad, ArrayView<float> loss, ArrayView<int> correct)
    {
        int stride = Grid.DimX * Group.DimX;
        for (int i = Grid.GlobalIndex.X; i < length; i += stride)
        {
            if (i == gradLength)
            {
                // One thread: each group's loss into the compensated total, in group order.
                for (int g = 0; g < groups; g++)
                    Totals.AddLoss(loss, partials[(long)g * length + i]);
            }
            else if (i > gradLength)
            {
                int count = 0;
                for (int g = 0; g < groups; g++)
                    count += Totals.Count(partials[(long)g * length + i]);
                correct[0] += count;
            }
            else
            {
                grad[i] = ColumnSum(partials, groups, length, i);
            }
        }
    }

    /// <summary>Σ_g partials[g, i], in a fixed order.</summary>
    private static float ColumnSum(ArrayView<float> partials, int groups, int length, int i)
    {
        // Four independent running sums keep four loads in flight (ILGPU does not unroll loops); the order
        // of additions is still fixed: s_m = Σ_{g ≡ m mod 4}, then (s0 + s1) + (s2 + s3).
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        int g = 0;
        for (; g + 3 < groups; g += 4)
        {
            long at = (long)g * length + i;
            s0 += partials[at];
            s1 += partials[at + length];
            s2 += partials[at + 2L * length];
            s3 += partials[at + 3L * length];
        }
        for (; g < groups; g++)
            s0 += partials[(long)g * length + i];
        return (s0 + s1) + (s2 + s3);
    }

    /// <summary>Compiles the kernel now rather than at its first launch (<see cref="KernelSet.CompileAll"/>).</summary>
    public void Compile() => _ = kernel.Value;

    /// <summary>
    /// The first grad.Length column sums overwrite <paramref name="grad"/>; the last two (loss, correct count) are
    /// added to the totals (the fused pass's [dW | db | loss | correct]; length = grad.Length + 2).
    /// </summary>
    public void Launch(ArrayView<float> partials, int groups, int length, ArrayView<float> grad, ArrayView<float> loss,
        ArrayView<int> correct) =>
        kernel.Value(shape.GridStride(length, shape.ElementGroup), partials, groups, length, (int)grad.Length, grad, loss, correct);

    /// <summary>sums[i] = Σ_g partials[g, i] for every column, no totals (split-K matrix products).</summary>
    public void Launch(ArrayView<float> partials, int groups, int length, ArrayView<float> sums) =>
        kernel.Value(shape.GridStride(length, shape.ElementGroup), partials, groups, length, length, sums, default, default);
}
