using System.Diagnostics;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace SoftmaxGpu.Kernels.Host;

/// <summary>
/// What the CPU can do at most, measured in managed code on every core: the copy bandwidth of large arrays
/// (read plus write) and the float32 multiply-add rate of independent FMA chains at the widest vector width the
/// machine has (512 bits with AVX-512, else <see cref="Vector{T}"/>'s). The host engine's floor is taken from
/// these, as a GPU's is from its copy and multiply-add kernels.
/// </summary>
public static class HostCeilings
{
    /// <summary>Independent accumulators per core: enough to cover the FMA latency on two ports.</summary>
    public const int Chains = 12;

    /// <summary>Median seconds of a parallel copy of <paramref name="bytes"/> (split over the cores) and the bytes moved.</summary>
    public static double CopyBandwidth(long bytes, int repeats)
    {
        long floats = bytes / sizeof(float);
        var source = new float[floats];
        var target = new float[floats];
        source.AsSpan().Fill(1f);
        int cores = Environment.ProcessorCount;
        double seconds = Median(repeats, () => Parallel.For(0, cores, c =>
        {
            long first = floats * c / cores, last = floats * (c + 1) / cores;
            source.AsSpan((int)first, (int)(last - first)).CopyTo(target.AsSpan((int)first, (int)(last - first)));
        }));
        return 2.0 * floats * sizeof(float) / seconds;
    }

    /// <summary>Float32 FLOPs per second of <see cref="Chains"/> FMA chains per core, all cores at once.</summary>
    public static double MultiplyAddRate(int trips, int repeats)
    {
        int cores = Environment.ProcessorCount;
        var sink = new float[cores];
        int width = Vector512.IsHardwareAccelerated ? Vector512<float>.Count : Vector<float>.Count;
        double seconds = Median(repeats, () => Parallel.For(0, cores, c =>
            sink[c] = Vector512.IsHardwareAccelerated ? Chains512(trips) : ChainsPortable(trips)));
        return 2.0 * width * Chains * trips * cores / seconds;
    }

    private static float Chains512(int trips)
    {
        Vector512<float> a = Vector512.Create(0.999f), b = Vector512.Create(1e-3f);
        Vector512<float> s0 = a, s1 = a, s2 = a, s3 = a, s4 = a, s5 = a, s6 = a, s7 = a, s8 = a, s9 = a, s10 = a, s11 = a;
        for (int t = 0; t < trips; t++)
        {
            s0 = Vector512.FusedMultiplyAdd(s0, a, b); s1 = Vector512.FusedMultiplyAdd(s1, a, b);
            s2 = Vector512.FusedMultiplyAdd(s2, a, b); s3 = Vector512.FusedMultiplyAdd(s3, a, b);
            s4 = Vector512.FusedMultiplyAdd(s4, a, b); s5 = Vector512.FusedMultiplyAdd(s5, a, b);
            s6 = Vector512.FusedMultiplyAdd(s6, a, b); s7 = Vector512.FusedMultiplyAdd(s7, a, b);
            s8 = Vector512.FusedMultiplyAdd(s8, a, b); s9 = Vector512.FusedMultiplyAdd(s9, a, b);
            s10 = Vector512.FusedMultiplyAdd(s10, a, b); s11 = Vector512.FusedMultiplyAdd(s11, a, b);
        }
        return Vector512.Sum(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11);
    }

    private static float ChainsPortable(int trips)
    {
        var a = new Vector<float>(0.999f);
        var b = new Vector<float>(1e-3f);
        Vector<float> s0 = a, s1 = a, s2 = a, s3 = a, s4 = a, s5 = a, s6 = a, s7 = a, s8 = a, s9 = a, s10 = a, s11 = a;
        for (int t = 0; t < trips; t++)
        {
            s0 = Vector.FusedMultiplyAdd(s0, a, b); s1 = Vector.FusedMultiplyAdd(s1, a, b);
            s2 = Vector.FusedMultiplyAdd(s2, a, b); s3 = Vector.FusedMultiplyAdd(s3, a, b);
            s4 = Vector.FusedMultiplyAdd(s4, a, b); s5 = Vector.FusedMultiplyAdd(s5, a, b);
            s6 = Vector.FusedMultiplyAdd(s6, a, b); s7 = Vector.FusedMultiplyAdd(s7, a, b);
            s8 = Vector.FusedMultiplyAdd(s8, a, b); s9 = Vector.FusedMultiplyAdd(s9, a, b);
            s10 = Vector.FusedMultiplyAdd(s10, a, b); s11 = Vector.FusedMultiplyAdd(s11, a, b);
        }
        return Vector.Sum(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7 + s8 + s9 + s10 + s11);
    }

    private static double Median(int repeats, Action run)
    {
        run(); // warm up (JIT, page faults)
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            run();
            times[i] = clock.Elapsed.TotalSeconds;
        }
        Array.Sort(times);
        return times[repeats / 2];
    }
}
