namespace SoftmaxGpu.Training;

/// <summary>Rows ready for the device: standardized X [N, D], class indices y [N], optional soft targets [N, K].</summary>
public sealed record EncodedSet(float[] Features, int[] Labels, float[]? Targets, int Rows, int Dim) : IRowGather
{
    long IRowSource.Rows => Rows;

    public void Read(long start, int count, Span<float> features, Span<int> labels)
    {
        Features.AsSpan().Slice(checked((int)(start * Dim)), count * Dim).CopyTo(features);
        Labels.AsSpan().Slice(checked((int)start), count).CopyTo(labels);
    }

    public void Gather(ReadOnlySpan<int> rows, Span<float> features, Span<int> labels)
    {
        for (int r = 0; r < rows.Length; r++)
        {
            Features.AsSpan((int)((long)rows[r] * Dim), Dim).CopyTo(features.Slice(r * Dim, Dim));
            labels[r] = Labels[rows[r]];
        }
    }
}
