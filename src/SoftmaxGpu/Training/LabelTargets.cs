namespace SoftmaxGpu.Training;

/// <summary>
/// A source of labelled rows whose targets are a function of the class alone: row i's target row is
/// <c>Table[y_i]</c>, one row of a [K, K] table. Label smoothing ((1 − ε)·onehot + ε/K) and class weights
/// (cw_c·onehot, as target mass) are such tables, so they stream from any source, a .sgd file included, with
/// K floats per class in memory instead of K per row.
/// </summary>
public class LabelTargets : IRowSource
{
    private readonly IRowSource rows;
    private readonly float[] table; // [K, K]: row c is the target row of class c

    /// <param name="table">[K, K] row-major: the target row of each class.</param>
    private LabelTargets(IRowSource rows, float[] table, int k)
    {
        if (rows.TargetWidth != 0)
            throw new ArgumentException("the rows already carry targets", nameof(rows));
        if (table.Length != k * k)
            throw new ArgumentException($"a target table for {k} classes has {k * k} values, got {table.Length}", nameof(table));
        (this.rows, this.table, TargetWidth) = (rows, table, k);
    }

    /// <summary>The rows with targets from <paramref name="table"/>; gathered in any order where <paramref name="rows"/> can be.</summary>
    public static LabelTargets For(IRowSource rows, float[] table, int k) =>
        rows is IRowGather ? new Gathering(rows, table, k) : new LabelTargets(rows, table, k);

    public long Rows => rows.Rows;
    public int Dim => rows.Dim;
    public int TargetWidth { get; }

    /// <summary>The table of label smoothing ε: row c = (1 − ε)·e_c + ε/K, as <see cref="Pipeline.Smoothed"/> writes per row.</summary>
    public static float[] Smoothing(int k, float epsilon)
    {
        var table = new float[k * k];
        table.AsSpan().Fill(epsilon / k);
        for (int c = 0; c < k; c++)
            table[c * k + c] += 1 - epsilon;
        return table;
    }

    public void Read(long start, int count, RowBlock block)
    {
        rows.Read(start, count, new RowBlock(block.Features, block.Labels, default));
        Expand(block.Labels, block.Targets);
    }

    /// <summary>Rows per class n_c, from one pass over the labels (a source's rows are read in chunks).</summary>
    public static long[] CountClasses(IRowSource rows, int k)
    {
        var counts = new long[k];
        int chunk = (int)Math.Clamp(GradientEngine.BlockFloats / Math.Max(1, rows.Dim), 1, Math.Max(1, rows.Rows));
        var features = new float[(long)chunk * rows.Dim];
        var labels = new int[chunk];
        for (long start = 0; start < rows.Rows; start += chunk)
        {
            int count = (int)Math.Min(chunk, rows.Rows - start);
            rows.Read(start, count, new RowBlock(features.AsSpan(0, count * rows.Dim), labels.AsSpan(0, count), default));
            foreach (int label in labels.AsSpan(0, count))
                counts[label]++;
        }
        return counts;
    }

    /// <summary>Over rows in memory: any order can be staged (<see cref="IRowGather"/>).</summary>
    private sealed class Gathering(IRowSource rows, float[] table, int k) : LabelTargets(rows, table, k), IRowGather
    {
        public void Gather(ReadOnlySpan<int> indices, RowBlock block)
        {
            ((IRowGather)Source).Gather(indices, new RowBlock(block.Features, block.Labels, default));
            Expand(block.Labels, block.Targets);
        }
    }

    private protected IRowSource Source => rows;

    private protected void Expand(ReadOnlySpan<int> labels, Span<float> targets)
    {
        int k = TargetWidth;
        for (int r = 0; r < labels.Length; r++)
            table.AsSpan(labels[r] * k, k).CopyTo(targets.Slice(r * k, k));
    }
}
