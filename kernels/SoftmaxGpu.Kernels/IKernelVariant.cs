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
