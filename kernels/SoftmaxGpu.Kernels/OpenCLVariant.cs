using System.Runtime.CompilerServices;
using ILGPU;

namespace SoftmaxGpu.Kernels;

/// <summary>OpenCL: one lane per dot product (nothing to exchange) and static shared memory of a fixed capacity.</summary>
public readonly struct OpenCLVariant : IKernelVariant
{
    public float LaneSum(float value, int lanes) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ArrayView<float> SharedFloats(int capacity) => SharedMemory.Allocate<float>(capacity);
}
