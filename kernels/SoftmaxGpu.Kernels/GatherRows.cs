using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// Copies the rows named by an index list into a contiguous batch: dst[i, :] = src[order[i], :]. The
/// epoch's shuffle is an index permutation uploaded once; each mini-batch gathers its rows on the device.
/// </summary>
public sealed class GatherRows
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, int, ArrayView<float>> gatherFloat;
    private readonly Action<KernelConfig, ArrayView<int>, ArrayView<int>, int, ArrayView<int>> gatherInt;
    private readonly LaunchShape shape;

    public GatherRows(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        gatherFloat = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, int,
            ArrayView<float>>(GatherRowsKernel);
        gatherInt = accelerator.LoadStreamKernel<ArrayView<int>, ArrayView<int>, int,
            ArrayView<int>>(GatherRowsKernel);
    }

    /// <summary>dst[i, c] = src[order[i], c], grid-stride over the destination elements.</summary>
    /// <param name="src">Source: [N, width].</param>
    /// <param name="order">Row indices into src: [rows].</param>
    /// <param name="width">Elements per row.</param>
    /// <param name="dst">Destination: [rows, width].</param>
    public static void GatherRowsKernel<T>(ArrayView<T> src, ArrayView<int> order, int width, ArrayView<T> dst)
        where T : unmanaged
    {
        long count = order.Length * width;
        long stride = (long)Grid.DimX * Group.DimX;
        for (long index = Grid.GlobalIndex.X; index < count; index += stride)
        {
            long i = index / width;
            long c = index - i * width;
            dst[index] = src[(long)order[i] * width + c];
        }
    }

    public void Launch(ArrayView<float> src, ArrayView<int> order, int width, ArrayView<float> dst) =>
        gatherFloat(shape.GridStride(order.Length * width, shape.ElementGroup), src, order, width, dst);

    public void Launch(ArrayView<int> src, ArrayView<int> order, int width, ArrayView<int> dst) =>
        gatherInt(shape.GridStride(order.Length * width, shape.ElementGroup), src, order, width, dst);
}
