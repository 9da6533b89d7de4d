namespace SoftmaxGpu.Bench;

/// <summary>What the device can do at most, measured by ILGPU kernels (<see cref="Kernels.Ceilings"/>).</summary>
/// <param name="Bandwidth">Bytes per second moved by the copy kernel, read plus write.</param>
/// <param name="Flops">Float32 FLOPs per second of the multiply-add kernel.</param>
public sealed record Ceiling(double Bandwidth, double Flops, long CopyBytes)
{
    /// <summary>The floor of a step: the larger of reading X at full bandwidth and its FLOPs at the full rate.</summary>
    public double FloorSeconds(BenchShape shape) => Math.Max(shape.Bytes / Bandwidth, shape.Flops / Flops);
}
