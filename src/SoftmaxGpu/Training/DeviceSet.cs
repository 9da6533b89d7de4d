using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Training;

/// <summary>
/// An <see cref="EncodedSet"/> resident on the device: X [N, D], y [N] and, where given, soft targets Y [N, K].
/// Absent targets are an empty view (ILGPU cannot allocate zero elements).
/// </summary>
public sealed class DeviceSet : IDisposable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> x;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> y;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? targets;

    public DeviceSet(Accelerator accelerator, EncodedSet set)
    {
        Rows = set.Rows;
        Dim = set.Dim;
        x = accelerator.Allocate1D(set.Features);
        y = accelerator.Allocate1D(set.Labels);
        targets = set.Targets is null ? null : accelerator.Allocate1D(set.Targets);
    }

    /// <summary>
    /// An uninitialized set of <paramref name="rows"/> × <paramref name="dim"/> with <paramref name="targetWidth"/>
    /// targets a row (0: none), for data made on the device or staged into it block by block.
    /// </summary>
    public DeviceSet(Accelerator accelerator, int rows, int dim, int targetWidth = 0)
    {
        Rows = rows;
        Dim = dim;
        x = accelerator.Allocate1D<float>((long)rows * dim);
        y = accelerator.Allocate1D<int>(rows);
        targets = targetWidth == 0 ? null : accelerator.Allocate1D<float>((long)rows * targetWidth);
    }

    public int Rows { get; }
    public int Dim { get; }
    /// <summary>X: [N, D] row-major.</summary>
    public ArrayView<float> Features => x.View;
    /// <summary>y: [N] class indices.</summary>
    public ArrayView<int> Labels => y.View;
    /// <summary>Y: [N, K] soft targets, or empty.</summary>
    public ArrayView<float> Targets => targets is null ? default : targets.View;
    public bool HasTargets => targets is not null;

    /// <summary>Device bytes an encoded set of this size takes, with <paramref name="targetWidth"/> targets a row.</summary>
    public static long Bytes(long rows, int dim, int targetWidth) => 4 * rows * (dim + 1 + targetWidth);

    public void Dispose()
    {
        x.Dispose();
        y.Dispose();
        targets?.Dispose();
    }
}
