namespace SoftmaxGpu.Training;

/// <summary>
/// Some rows of another source, in its order: row i is the source's row rows[i] (increasing). A fold's training or
/// held-out rows of a file read in blocks (<see cref="CrossValidation"/>), without the features in memory: a read of
/// count rows reads the source's rows from rows[start] to rows[start + count − 1] in windows of at most count rows and
/// keeps the chosen ones. Host memory holds the index array and one window (the size of the block asked for).
/// A stratified fold's rows are short runs, so one read a window, not one a run; it reads K/(K − 1) times a training
/// fold's rows and K times a held-out fold's, which for rows smaller than a disk page is the pages read anyway.
/// </summary>
public sealed class RowSubset : IRowSource
{
    private readonly IRowSource source;
    private readonly int[] rows; // [count] indices into source, increasing
    private float[] windowFeatures = []; // [window, D]
    private int[] windowLabels = [];     // [window]
    private float[] windowTargets = [];  // [window, K], K = TargetWidth

    /// <param name="rows">Rows of <paramref name="source"/>, increasing.</param>
    public RowSubset(IRowSource source, int[] rows)
    {
        for (int i = 0; i < rows.Length; i++)
            if (rows[i] < 0 || rows[i] >= source.Rows || (i > 0 && rows[i] <= rows[i - 1]))
                throw new ArgumentException($"row {i} of the subset ({rows[i]}) is not an increasing row of the {source.Rows}", nameof(rows));
        (this.source, this.rows) = (source, rows);
    }

    public long Rows => rows.Length;
    public int Dim => source.Dim;
    public int TargetWidth => source.TargetWidth;

    public void Read(long start, int count, RowBlock block)
    {
        int first = checked((int)start), d = Dim, k = TargetWidth;
        Reserve(count, d, k);
        var window = new RowBlock(windowFeatures, windowLabels, windowTargets);
        for (int done = 0; done < count;)
        {
            // Source rows [from, from + span): from the next row wanted, as far as the last one or count rows.
            int from = rows[first + done];
            int span = Math.Min(count, rows[first + count - 1] - from + 1);
            source.Read(from, span, window.Take(span, d, k));
            for (; done < count && rows[first + done] < from + span; done++)
            {
                int at = rows[first + done] - from;
                windowFeatures.AsSpan(at * d, d).CopyTo(block.Features.Slice(done * d, d));
                block.Labels[done] = windowLabels[at];
                if (k > 0)
                    windowTargets.AsSpan(at * k, k).CopyTo(block.Targets.Slice(done * k, k));
            }
        }
    }

    /// <summary>A window of at least <paramref name="count"/> rows (kept for the next read, which is usually as long).</summary>
    private void Reserve(int count, int d, int k)
    {
        if (windowLabels.Length >= count)
            return;
        windowFeatures = new float[(long)count * d];
        windowLabels = new int[count];
        windowTargets = new float[(long)count * k];
    }
}
