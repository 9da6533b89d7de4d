namespace SoftmaxGpu.Training;

/// <summary>
/// Rows in host memory or on disk, read in ranges into the staging buffers of a streamed set (<see cref="RowBlock"/>:
/// standardized features, class indices and, where <see cref="TargetWidth"/> is K, target rows). An
/// <see cref="EncodedSet"/> in memory is one; a binary dataset file read block by block is another, so a set larger
/// than host memory can stream too; <see cref="LabelTargets"/> turns a source's labels into target rows on the way.
/// </summary>
public interface IRowSource
{
    long Rows { get; }
    int Dim { get; }
    /// <summary>K where every row carries a target row Y [K] (soft targets, tag sets, weighted rows); 0 for labels alone.</summary>
    int TargetWidth { get; }
    /// <summary>Whether the rows carry their class indices: false where they were read for prediction alone (their labels
    /// zeros, or −1 for classes the model does not know), which nothing may score.</summary>
    bool HasLabels => true;

    /// <summary>Rows [start, start + count) into the block's spans, which hold exactly count rows.</summary>
    void Read(long start, int count, RowBlock block);
}
