using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// Seeded standard-normal values made on the device, so a benchmark can fill gigabytes of X without a host
/// copy: value i comes from a counter-based hash of (seed, i) through the Box–Muller transform, so any
/// device produces the same numbers in any launch shape.
/// </summary>
public sealed class Synthetic
{
    private readonly Action<KernelConfig, uint, float, ArrayView<float>> kernel;
    private readonly LaunchShape shape;

    public Synthetic(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        kernel = accelerator.LoadStreamKernel<uint, float, ArrayView<float>>(NormalKernel);
    }

    /// <summary>values[i] = scale·N(0, 1), grid-stride over i.</summary>
    /// <param name="seed">Selects the stream of numbers.</param>
    /// <param name="scale">Standard deviation.</param>
    /// <param name="values">Filled.</param>
    public static void NormalKernel(uint seed, float scale, ArrayView<float> values)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < values.Length; i += stride)
        {
            uint a = Hash((uint)i ^ Hash(seed ^ (uint)(i >> 32)));
            uint b = Hash(a ^ 0x68E31DA4u);
            // Uniforms in (0, 1] and [0, 1) from the top 24 bits: exact in float.
            float u1 = ((a >> 8) + 1) * (1f / 16777216f);
            float u2 = (b >> 8) * (1f / 16777216f);
            values[i] = scale * MathF.Sqrt(-2f * MathF.Log(u1)) * MathF.Cos(2f * MathF.PI * u2);
        }
    }

    /// <summary>A 32-bit integer hash (lowbias32): each input bit flips about half the output bits.</summary>
    private static uint Hash(uint x)
    {
        x ^= x >> 16;
        x *= 0x7FEB352Du;
        x ^= x >> 15;
        x *= 0x846CA68Bu;
        x ^= x >> 16;
        return x;
    }

    public void Launch(uint seed, float scale, ArrayView<float> values) =>
        kernel(shape.GridStride(values.Length, shape.ElementGroup), seed, scale, values);
}
