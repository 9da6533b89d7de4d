using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// Group and grid sizes for one accelerator, read from its limits: no kernel hard-codes a size.
/// ILGPU's CPU accelerator emulates every thread of a group with an OS thread and every barrier with an OS
/// barrier (about 200 µs a barrier with 16 threads on 2 cores, measured), so there groups have one thread:
/// the same kernels then run without a thread ever waiting, and the matrix product takes its
/// barrier-free form. Tests pass a larger limit to exercise the shared-memory paths on the CPU too.
/// </summary>
public sealed class LaunchShape
{
    /// <summary>Largest matrix-product group edge; 16×16 = 256 threads (a 64×64 block of C) keeps several groups per SM.</summary>
    public const int MaxTile = 16;

    /// <summary>
    /// Shared memory a group may ask for: ILGPU 1.5.3 never opts in to more than 48 KiB on CUDA, and on OpenCL
    /// kernels take it as a static array of this size (see <see cref="IKernelVariant"/>); devices with less
    /// give their own size, and the CPU accelerator keeps the GPU's budget so its tests stage the same tiles.
    /// </summary>
    public const int MaxSharedBytes = 48 * 1024;

    /// <summary><see cref="MaxSharedBytes"/> in floats: the static shared array of the fused step on OpenCL.</summary>
    public const int MaxSharedFloats = MaxSharedBytes / sizeof(float);

    /// <summary>Largest group of the loss reduction (threads per group; groups then take chunks of rows).</summary>
    public const int MaxReductionGroup = 1024;

    public LaunchShape(Accelerator accelerator)
        : this(accelerator.AcceleratorType == AcceleratorType.CPU ? 1 : accelerator.MaxNumThreadsPerGroup,
               accelerator.WarpSize,
               accelerator.NumMultiprocessors * Math.Max(1, accelerator.MaxNumThreadsPerMultiprocessor),
               accelerator.NumMultiprocessors,
               (int)Math.Min(accelerator.MaxSharedMemoryPerGroup, MaxSharedBytes),
               portable: accelerator.AcceleratorType == AcceleratorType.OpenCL)
    {
    }

    /// <summary>Shapes for a group limit of <paramref name="maxThreadsPerGroup"/> threads.</summary>
    /// <param name="residentThreads">Threads the device keeps resident at once: bounds grid-stride grids.</param>
    /// <param name="multiprocessors">Streaming multiprocessors (CPU accelerator: simulated ones).</param>
    /// <param name="sharedBytes">Shared memory one group may use.</param>
    /// <param name="portable">Kernels take their OpenCL variant: no warp shuffles, static shared memory.</param>
    public LaunchShape(int maxThreadsPerGroup, int warpSize = 1, int residentThreads = 64, int multiprocessors = 2,
        int sharedBytes = MaxSharedBytes, bool portable = false)
    {
        Multiprocessors = Math.Max(1, multiprocessors);
        SharedFloats = Math.Min(sharedBytes, MaxSharedBytes) / sizeof(float);
        Portable = portable;
        MaxGroup = FloorPow2(maxThreadsPerGroup);
        Tile = 1;
        while (Tile * 2 <= MaxTile && (Tile * 2) * (Tile * 2) <= MaxGroup)
            Tile *= 2;
        ReductionGroup = Math.Min(MaxGroup, MaxReductionGroup);
        // Element-wise kernels: a few warps per group, within the limit.
        // A warp never spans more than a group (PoCL reports 4096, its largest group, as its warp).
        WarpSize = Math.Min(FloorPow2(Math.Max(1, warpSize)), MaxGroup);
        ShuffleWidth = portable ? 1 : WarpSize;
        ElementGroup = Math.Min(MaxGroup, WarpSize * 8);
        ResidentThreads = Math.Max(residentThreads, ElementGroup);
    }

    /// <summary>Largest power of two not above the accelerator's threads per group.</summary>
    public int MaxGroup { get; }

    /// <summary>Edge T of the T×T thread group of the matrix product, which computes a (4T)×(4T) block of C.</summary>
    public int Tile { get; }

    /// <summary>Threads per group of the loss and accuracy reduction.</summary>
    public int ReductionGroup { get; }

    /// <summary>Threads per group of element-wise kernels.</summary>
    public int ElementGroup { get; }

    /// <summary>Threads resident on the whole device; a grid-stride launch needs no more.</summary>
    public int ResidentThreads { get; }

    /// <summary>
    /// Fewest rows a group of a multi-group reduction (loss, column sums) takes. Below it a batch is reduced by
    /// one group that writes the result directly, saving the launch that adds up partials: 256 rows on a GPU;
    /// on the CPU accelerator, where a launch costs about 0.2 ms and a group is one thread, 16384.
    /// </summary>
    public int ReductionRowsPerGroup => MaxGroup == 1 ? 16384 : 256;

    /// <summary>Threads of a warp (a power of two): lanes that can exchange values by shuffles.</summary>
    public int WarpSize { get; }

    /// <summary>
    /// Whether kernels take their OpenCL variant (<see cref="OpenCLVariant"/>: no warp shuffles, static shared
    /// memory) rather than <see cref="WarpVariant"/> (CUDA and the CPU accelerator).
    /// </summary>
    public bool Portable { get; }

    /// <summary>The launch's shared memory: a dynamic request of <paramref name="floats"/>, or none where kernels use a static array of <paramref name="capacity"/>.</summary>
    public SharedMemoryConfig Shared(int floats, int capacity)
    {
        if (floats > capacity)
            throw new ArgumentOutOfRangeException(nameof(floats), $"{floats} shared floats exceed the kernel's {capacity}");
        return Portable ? default : SharedMemoryConfig.RequestDynamic<float>(floats);
    }

    /// <summary>Lanes that kernels may combine by warp shuffles: the warp, or 1 where there are none (OpenCL).</summary>
    public int ShuffleWidth { get; }

    /// <summary>Multiprocessors of the device: the fused step sizes its grid by them.</summary>
    public int Multiprocessors { get; }

    /// <summary>Floats of shared memory one group may use.</summary>
    public int SharedFloats { get; }

    /// <summary>Threads per row for row-wise kernels: the power of two covering K, within the limit.</summary>
    public int RowGroup(int k) => Math.Min(ReductionGroup, CeilPow2(k));

    /// <summary>A grid-stride launch over <paramref name="items"/> work items, groups of <paramref name="threads"/>.</summary>
    public KernelConfig GridStride(long items, int threads, SharedMemoryConfig shared = default)
    {
        long groups = Math.Min((items + threads - 1) / threads, Math.Max(1, ResidentThreads / threads));
        return new KernelConfig((int)Math.Max(1, groups), threads, shared);
    }

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
