using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// Copies the rows named by an index list into a contiguous batch: dst[i, :] = src[order[i], :]. The
/// epoch's shuffle is an index permutation uploaded once; each mini-batch gathers its rows on the device.
/// </summary>
public sealed class GatherRows
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, int, ArrayView<float>> gatherFloat;
    private readonly Action<Index1D, ArrayView<int>, ArrayView<int>, int, ArrayView<int>> gatherInt;

    public GatherRows(Accelerator accelerator)
    {
        gatherFloat = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>, int,
            ArrayView<float>>(GatherRowsKernel);
        gatherInt = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, int,
            ArrayView<int>>(GatherRowsKernel);
    }

    /// <summary>dst[i, c] = src[order[i], c], one thread per destination element.</summary>
    /// <param name="index">Flat destination index i·width + c.</param>
    /// <param name="src">Source: [N, width].</param>
    /// <param name="order">Row indices into src: [rows].</param>
    /// <param name="width">Elements per row.</param>
    /// <param name="dst">Destination: [rows, width].</param>
    public static void GatherRowsKernel<T>(Index1D index, ArrayView<T> src, ArrayView<int> order, int width,
        ArrayView<T> dst) where T : unmanaged
    {
        int i = index / width;
        int c = index - i * width;
        dst[index] = src[(long)order[i] * width + c];
    }

    public void Launch(ArrayView<float> src, ArrayView<int> order, int width, ArrayView<float> dst) =>
        gatherFloat((int)order.Length * width, src, order, width, dst);

    public void Launch(ArrayView<int> src, ArrayView<int> order, int width, ArrayView<int> dst) =>
        gatherInt((int)order.Length * width, src, order, width, dst);
}
