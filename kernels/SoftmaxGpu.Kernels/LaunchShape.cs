using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// Group sizes for one accelerator, read from its limits. ILGPU's CPU accelerator allows 16 threads per
/// group, CUDA 1024, pocl 4096: no kernel hard-codes a size, each launcher asks this.
/// </summary>
public sealed class LaunchShape
{
    /// <summary>Largest matrix-product tile edge; 16×16 = 256 threads keeps several groups per SM.</summary>
    public const int MaxTile = 16;

    /// <summary>Largest group used for a single-group reduction over a whole batch.</summary>
    public const int MaxReductionGroup = 1024;

    public LaunchShape(Accelerator accelerator)
    {
        MaxGroup = FloorPow2(accelerator.MaxNumThreadsPerGroup);
        Tile = 1;
        while (Tile * 2 <= MaxTile && (Tile * 2) * (Tile * 2) <= MaxGroup)
            Tile *= 2;
        ReductionGroup = Math.Min(MaxGroup, MaxReductionGroup);
    }

    /// <summary>Largest power of two not above the accelerator's threads per group.</summary>
    public int MaxGroup { get; }

    /// <summary>Edge T of the square T×T tile (and thread group) of the matrix product.</summary>
    public int Tile { get; }

    /// <summary>Threads of the group that reduces a whole batch (loss, accuracy) in one launch.</summary>
    public int ReductionGroup { get; }

    /// <summary>Threads per row for row-wise kernels: the power of two covering K, within the limit.</summary>
    public int RowGroup(int k) => Math.Min(MaxGroup, CeilPow2(k));

    public static int FloorPow2(int n)
    {
        int p = 1;
        while (p * 2 <= n)
            p *= 2;
        return p;
    }

    public static int CeilPow2(int n)
    {
        int p = 1;
        while (p < n)
            p *= 2;
        return p;
    }
}
