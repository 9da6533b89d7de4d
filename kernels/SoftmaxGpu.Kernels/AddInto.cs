using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// y += x, element by element: how a gradient built block by block (data streamed through the device in parts)
/// adds each block's share into the running sum.
/// </summary>
public sealed class AddInto
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>> kernel;
    private readonly LaunchShape shape;

    public AddInto(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        kernel = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>>(AddIntoKernel);
    }

    /// <summary>y[i] += x[i] for every i of y, grid-stride.</summary>
    /// <param name="x">Addend: [P].</param>
    /// <param name="y">Sum: [P], updated.</param>
    public static void AddIntoKernel(ArrayView<float> x, ArrayView<float> y)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        for (long i = Grid.GlobalIndex.X; i < y.Length; i += stride)
            y[i] += x[i];
    }

    public void Launch(ArrayView<float> x, ArrayView<float> y) =>
        kernel(shape.GridStride(y.Length, shape.ElementGroup), x, y);
}
