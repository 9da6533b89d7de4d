using ILGPU;

namespace SoftmaxGpu.Kernels;

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
