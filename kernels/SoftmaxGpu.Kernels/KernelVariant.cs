using System.Runtime.CompilerServices;
using ILGPU;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// The two operations whose code differs between backends, given to a kernel as a struct type parameter so
/// that each backend compiles only code it can run (see <see cref="LaunchShape.Portable"/>):
/// <list type="bullet">
/// <item>ILGPU 1.5.3's OpenCL code generator cannot emit a warp shuffle at all: it throws while compiling,
/// even for a shuffle in a branch that is never taken.</item>
/// <item>For dynamic shared memory its OpenCL code stores each group's local-memory pointer in one
/// program-scope variable that every group of the launch overwrites. Where groups run at once with local
/// memory at different addresses (PoCL's CPU device) a group then works in another group's memory: wrong
/// sums in some runs, seen on PoCL 6.0 until every kernel there took static shared memory.</item>
/// </list>
/// </summary>
public interface IKernelVariant
{
    /// <summary>Sum of <paramref name="value"/> over the <paramref name="lanes"/> adjacent lanes of a lane group, in its first lane.</summary>
    float LaneSum(float value, int lanes);

    /// <summary>The group's shared floats: the launch's dynamic request, or a static array of <paramref name="capacity"/> (a constant).</summary>
    ArrayView<float> SharedFloats(int capacity);
}

/// <summary>CUDA and ILGPU's CPU accelerator: warp shuffles (a tree in a fixed order) and dynamic shared memory.</summary>
public readonly struct WarpVariant : IKernelVariant
{
    public float LaneSum(float value, int lanes)
    {
        for (int offset = lanes / 2; offset > 0; offset /= 2)
            value += Warp.ShuffleDown(value, offset);
        return value;
    }

    public ArrayView<float> SharedFloats(int capacity) => SharedMemory.GetDynamic<float>();
}

/// <summary>OpenCL: one lane per dot product (nothing to exchange) and static shared memory of a fixed capacity.</summary>
public readonly struct OpenCLVariant : IKernelVariant
{
    public float LaneSum(float value, int lanes) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ArrayView<float> SharedFloats(int capacity) => SharedMemory.Allocate<float>(capacity);
}
