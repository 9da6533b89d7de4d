using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// Column sums s[c] = Σ_r G[r, c] of a [B, K] matrix: the bias gradient db from G. Each group sums the
/// columns over its own chunk of rows — threads along the columns, so every row is one coalesced read — and
/// <see cref="PartialSum"/> adds the groups' partial rows in group order (deterministic).
/// </summary>
public sealed class ColumnSum
{
    /// <summary>Groups per multiprocessor for tall matrices.</summary>
    public const int GroupsPerMultiprocessor = 4;

    private readonly Action<KernelConfig, ArrayView<float>, int, int, ArrayView<float>> kernel;
    private readonly Accelerator accelerator;
    private readonly LaunchShape shape;
    private readonly PartialSum sum;
    // [groups, K]: allocated at the first launch for a K, kept (launches on one stream run in order).
    private MemoryBuffer1D<float, Stride1D.Dense>? partials;

    /// <param name="sum">The partial-sum kernel, shared with the rest of the kernel set.</param>
    public ColumnSum(Accelerator accelerator, LaunchShape shape, PartialSum sum)
    {
        this.accelerator = accelerator;
        this.shape = shape;
        this.sum = sum;
        kernel = accelerator.LoadStreamKernel<ArrayView<float>, int, int, ArrayView<float>>(ColumnSumKernel);
    }

    /// <summary>Group g sums rows [g·chunk, (g + 1)·chunk) of every column; thread t takes columns c ≡ t.</summary>
    /// <param name="g">G: [B, K].</param>
    /// <param name="rows">B.</param>
    /// <param name="k">K.</param>
    /// <param name="partials">[groups, K]: each group's column sums, written (with one group: the sums).</param>
    public static void ColumnSumKernel(ArrayView<float> g, int rows, int k, ArrayView<float> partials)
    {
        int chunk = (rows + Grid.DimX - 1) / Grid.DimX;
        int first = Grid.IdxX * chunk;
        int last = Math.Min(rows, first + chunk);
        for (int column = Group.IdxX; column < k; column += Group.DimX)
        {
            float total = 0f;
            for (int r = first; r < last; r++)
                total += g[(long)r * k + column];
            partials[(long)Grid.IdxX * k + column] = total;
        }
    }

    /// <summary>sums[c] = Σ_r g[r, c] for a [rows, K] matrix.</summary>
    public void Launch(ArrayView<float> g, int rows, int k, ArrayView<float> sums)
    {
        int maxGroups = shape.Multiprocessors * GroupsPerMultiprocessor;
        int groups = Math.Clamp(rows / shape.ReductionRowsPerGroup, 1, maxGroups);
        long needed = (long)maxGroups * k;
        if (groups > 1 && (partials is null || partials.Length < needed))
        {
            partials?.Dispose();
            partials = accelerator.Allocate1D<float>(needed);
        }
        int threads = Math.Min(shape.ElementGroup, LaunchShape.CeilPow2(k));
        if (groups == 1)
        {
            kernel(new KernelConfig(1, threads), g, rows, k, sums); // one group's partial row is the answer
            return;
        }
        kernel(new KernelConfig(groups, threads), g, rows, k, partials!.View);
        sum.Launch(partials.View, groups, k, sums);
    }
}
