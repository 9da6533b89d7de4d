namespace SoftmaxGpu.Training;

/// <summary>
/// Rows in host memory or on disk, read in ranges into the staging buffers of a streamed set: standardized
/// features X [count, D] and class indices y [count]. An <see cref="EncodedSet"/> in memory is one; a binary
/// dataset file read block by block is another, so a set larger than host memory can stream too.
/// </summary>
public interface IRowSource
{
    long Rows { get; }
    int Dim { get; }

    /// <summary>Rows [start, start + count) into the spans: features [count, D] row-major, labels [count].</summary>
    void Read(long start, int count, Span<float> features, Span<int> labels);
}
