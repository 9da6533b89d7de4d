namespace SoftmaxGpu.Training;

/// <summary>
/// Rows that can be read in any order at memory speed (a set in host memory, unlike a file read in blocks). A
/// streamed set with such a source stages each block from an epoch's permutation of the whole set, so its
/// mini-batches are the ones resident training draws, whatever the device memory.
/// </summary>
public interface IRowGather : IRowSource
{
    /// <summary>Rows rows[0], rows[1], … into the block's spans, which hold exactly rows.Length rows.</summary>
    void Gather(ReadOnlySpan<int> rows, RowBlock block);
}
