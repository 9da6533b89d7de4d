using System.Runtime.Intrinsics;

namespace SoftmaxGpu.Kernels.Host;

/// <summary>
/// What the CPU can do at most, measured in managed code on every core: the copy bandwidth of large arrays
/// (read plus write) and the float32 multiply-add rate of independent FMA chains at the widest vector width the
/// machine has (512 bits with AVX-512, else <see cref="System.Numerics.Vector{T}"/>'s). The host engine's floor is taken from
/// these, as a GPU's is from its copy and multiply-add kernels; <see cref="SoftmaxGpu.Kernels.Ceilings"/>'s twin,
/// timed the same way by the benchmark.
/// </summary>
public static class HostCeilings
{
    /// <summary>Independent accumulators per core: enough to cover the FMA latency on two ports.</summary>
    public const int Chains = 12;

    /// <summary>target = source, split over the cores (the bandwidth probe: its bytes read plus written).</summary>
    public static void Copy(float[] source, float[] target)
    {
        int cores = Environment.ProcessorCount;
        Parallel.For(0, cores, c =>
        {
            int first = (int)((long)source.Length * c / cores), last = (int)((long)source.Length * (c + 1) / cores);
            source.AsSpan(first, last - first).CopyTo(target.AsSpan(first, last - first));
        });
    }

    /// <summary><see cref="Chains"/> FMA chains of <paramref name="trips"/> steps on every core at once; sink[c] keeps core c's result.</summary>
    public static void MultiplyAdd(int trips, float[] sink) =>
        Parallel.For(0, sink.Length, c =>
            sink[c] = Vector512.IsHardwareAccelerated ? FmaChains<Floats512>(trips) : FmaChains<FloatsT>(trips));

    /// <summary>Float32 FLOPs of one <see cref="MultiplyAdd"/> over <paramref name="cores"/> cores.</summary>
    public static double MultiplyAddFlops(int trips, int cores) =>
        2.0 * HostTile.Width * Chains * trips * cores;

    /// <summary>12 independent chains s ← s·a + b, <paramref name="trips"/> times each.</summary>
    private static float FmaChains<TV>(int trips) where TV : struct, IFloats<TV>
    {
        TV a = TV.Broadcast(0.999f), b = TV.Broadcast(1e-3f);
        TV s0 = a, s1 = a, s2 = a, s3 = a, s4 = a, s5 = a, s6 = a, s7 = a, s8 = a, s9 = a, s10 = a, s11 = a;
        for (int t = 0; t < trips; t++)
        {
            s0 = TV.Fma(s0, a, b); s1 = TV.Fma(s1, a, b); s2 = TV.Fma(s2, a, b); s3 = TV.Fma(s3, a, b);
            s4 = TV.Fma(s4, a, b); s5 = TV.Fma(s5, a, b); s6 = TV.Fma(s6, a, b); s7 = TV.Fma(s7, a, b);
            s8 = TV.Fma(s8, a, b); s9 = TV.Fma(s9, a, b); s10 = TV.Fma(s10, a, b); s11 = TV.Fma(s11, a, b);
        }
        return TV.Sum(s0) + TV.Sum(s1) + TV.Sum(s2) + TV.Sum(s3) + TV.Sum(s4) + TV.Sum(s5) +
               TV.Sum(s6) + TV.Sum(s7) + TV.Sum(s8) + TV.Sum(s9) + TV.Sum(s10) + TV.Sum(s11);
    }
}
