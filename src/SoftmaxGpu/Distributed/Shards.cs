using SoftmaxGpu.Training;

namespace SoftmaxGpu.Distributed;

/// <summary>
/// Which rows each rank trains on: rank r of P holds the contiguous rows [⌊r·N/P⌋, ⌊(r+1)·N/P⌋), so the shards
/// cover the set once, in order, and their sizes differ by at most one row.
/// </summary>
public static class Shards
{
    /// <summary>Rank <paramref name="rank"/>'s rows of <paramref name="rows"/>: (start, count).</summary>
    public static (long Start, long Count) Range(long rows, int rank, int ranks)
    {
        long start = rows * rank / ranks;
        return (start, rows * (rank + 1) / ranks - start);
    }

    /// <summary>The most rows any rank holds: ⌈N/P⌉.</summary>
    public static long MostRows(long rows, int ranks) => (rows + ranks - 1) / ranks;

    /// <summary>
    /// This rank's shard of <paramref name="whole"/>: a set in memory is sliced (its soft targets with it); any
    /// other source reads only the shard's rows (a .sgd file: only their blocks). The whole set alone.
    /// </summary>
    public static IRowSource Of(IRowSource whole, ICommunicator ranks)
    {
        if (ranks.Size == 1)
            return whole;
        (long start, long count) = Range(whole.Rows, ranks.Rank, ranks.Size);
        return whole is EncodedSet set ? set.Slice((int)start, (int)count) : new ShardSource(whole, start, count);
    }

    /// <summary>Rows [start, start + count) of another source.</summary>
    private sealed class ShardSource(IRowSource whole, long start, long count) : IRowSource
    {
        public long Rows => count;
        public int Dim => whole.Dim;
        public int TargetWidth => whole.TargetWidth;

        public void Read(long first, int rows, RowBlock block) => whole.Read(start + first, rows, block);
    }
}
