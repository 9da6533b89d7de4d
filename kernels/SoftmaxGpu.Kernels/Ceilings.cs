using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// The device's ceilings, measured by ILGPU kernels in the same run as the benchmark they bound: memory
/// bandwidth by a grid-stride 16-byte copy, and float32 arithmetic by independent multiply-add chains held in
/// registers. The benchmark's floor is the larger of bytes/bandwidth and FLOPs/rate.
/// </summary>
public sealed class Ceilings
{
    /// <summary>Multiply-adds per chain per loop trip; 8 independent chains hide the FMA latency.</summary>
    public const int Chains = 8;

    private readonly Action<KernelConfig, ArrayView<Float4>, ArrayView<Float4>> copy;
    private readonly Action<KernelConfig, int, float, ArrayView<float>> fma;
    private readonly LaunchShape shape;

    public Ceilings(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        copy = accelerator.LoadStreamKernel<ArrayView<Float4>, ArrayView<Float4>>(CopyKernel);
        fma = accelerator.LoadStreamKernel<int, float, ArrayView<float>>(MultiplyAddKernel);
    }

    /// <summary>dst = src, 16 bytes per thread per trip, grid-stride: reads and writes both coalesced.</summary>
    public static void CopyKernel(ArrayView<Float4> src, ArrayView<Float4> dst)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < src.Length; i += stride)
            dst[i] = src[i];
    }

    /// <summary>
    /// Each thread runs <see cref="Chains"/> independent chains a ← a·m + c for <paramref name="trips"/> trips
    /// (2 FLOPs each), then stores their sum so the compiler cannot drop them.
    /// </summary>
    /// <param name="trips">Loop trips per thread.</param>
    /// <param name="m">The multiplier (just below 1, so values stay finite).</param>
    /// <param name="sink">[threads]: one sum per thread.</param>
    public static void MultiplyAddKernel(int trips, float m, ArrayView<float> sink)
    {
        float seed = Grid.GlobalIndex.X * 1e-7f;
        float a0 = seed, a1 = seed + 1f, a2 = seed + 2f, a3 = seed + 3f;
        float a4 = seed + 4f, a5 = seed + 5f, a6 = seed + 6f, a7 = seed + 7f;
        for (int t = 0; t < trips; t++)
        {
            a0 = a0 * m + 0.5f;
            a1 = a1 * m + 0.5f;
            a2 = a2 * m + 0.5f;
            a3 = a3 * m + 0.5f;
            a4 = a4 * m + 0.5f;
            a5 = a5 * m + 0.5f;
            a6 = a6 * m + 0.5f;
            a7 = a7 * m + 0.5f;
        }
        sink[Grid.GlobalIndex.X] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    }

    /// <summary>Copies <paramref name="src"/> into <paramref name="dst"/> (lengths a multiple of 4 floats).</summary>
    public void Copy(ArrayView<float> src, ArrayView<float> dst) =>
        copy(shape.GridStride(src.Length / 4, shape.ElementGroup), src.Cast<Float4>(), dst.Cast<Float4>());

    /// <summary>Threads the multiply-add probe launches: every resident thread of the device.</summary>
    public int MultiplyAddThreads => Math.Max(shape.ElementGroup, shape.ResidentThreads / shape.ElementGroup * shape.ElementGroup);

    /// <summary>Runs the probe: 2·Chains·trips FLOPs per thread over <paramref name="sink"/>.Length threads.</summary>
    public void MultiplyAdd(int trips, ArrayView<float> sink) =>
        fma(new KernelConfig((int)(sink.Length / shape.ElementGroup), shape.ElementGroup), trips, 0.999f, sink);
}
