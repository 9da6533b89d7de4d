namespace SoftmaxGpu.Training;

/// <summary>Rows ready for the device: standardized X [N, D], class indices y [N], optional soft targets [N, K].</summary>
public sealed record EncodedSet(float[] Features, int[] Labels, float[]? Targets, int Rows, int Dim) : IRowSource
{
    long IRowSource.Rows => Rows;

    public void Read(long start, int count, Span<float> features, Span<int> labels)
    {
        Features.AsSpan().Slice(checked((int)(start * Dim)), count * Dim).CopyTo(features);
        Labels.AsSpan().Slice(checked((int)start), count).CopyTo(labels);
    }
}
