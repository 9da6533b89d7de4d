using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>Column sums s[c] = Σ_r G[r, c] of a [B, K] matrix: the bias gradient db from G.</summary>
public sealed class ColumnSum
{
    private readonly Action<KernelConfig, ArrayView<float>, int, int, ArrayView<float>> kernel;
    private readonly LaunchShape shape;

    public ColumnSum(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        kernel = accelerator.LoadStreamKernel<ArrayView<float>, int, int, ArrayView<float>>(ColumnSumKernel);
    }

    /// <summary>One group per column (groups stride over the columns); its threads stride down the rows and a shared-memory sum combines them.</summary>
    /// <param name="g">G: [B, K].</param>
    /// <param name="rows">B.</param>
    /// <param name="k">K.</param>
    /// <param name="sums">s: [K], written.</param>
    public static void ColumnSumKernel(ArrayView<float> g, int rows, int k, ArrayView<float> sums)
    {
        int tid = Group.IdxX;
        int threads = Group.DimX;
        ArrayView<float> scratch = SharedMemory.GetDynamic<float>(); // [threads]
        for (int column = Grid.IdxX; column < k; column += Grid.DimX)
        {
            float partial = 0f;
            for (int r = tid; r < rows; r += threads)
                partial += g[(long)r * k + column];
            float total = GroupReduce.Sum(scratch, partial);
            if (tid == 0)
                sums[column] = total;
        }
    }

    /// <summary>sums[c] = Σ_r g[r, c] for a [rows, K] matrix.</summary>
    public void Launch(ArrayView<float> g, int rows, int k, ArrayView<float> sums)
    {
        int threads = Math.Min(shape.ReductionGroup, LaunchShape.CeilPow2(rows));
        kernel(shape.GridStride((long)k * threads, threads, SharedMemoryConfig.RequestDynamic<float>(threads)),
            g, rows, k, sums);
    }
}
