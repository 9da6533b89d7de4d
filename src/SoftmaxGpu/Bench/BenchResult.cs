namespace SoftmaxGpu.Bench;

/// <summary>One shape's figures: medians of repeated, synchronized timings.</summary>
public sealed record BenchResult(string Device, BenchShape Shape, int Batch, string Kernels, double StepMs,
    double EpochMs, double FloorMs, Ceiling Ceiling)
{
    public double StepOverFloor => StepMs / FloorMs;
    public double EpochOverFloor => EpochMs / FloorMs;
}
