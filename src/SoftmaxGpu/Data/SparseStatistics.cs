namespace SoftmaxGpu.Data;

/// <summary>
/// Per-feature mean, population std and max |x| of sparse rows over all N rows, zeros counted, accumulated one row's
/// non-zeros at a time (never densifying, never holding the rows): the numbers <see cref="SparseTable.Statistics"/>
/// takes in two passes over rows in memory. Per column j, the non-zeros' count c, mean m and M2 = Σ(x − m)² run
/// by Welford's update; the N − c zeros join at the end by Chan's merge of two groups,
/// M2 + c·(N − c)/N · m², and the mean is c·m/N. Arrays grow with the largest column seen (L), not with D.
/// </summary>
internal sealed class SparseStatistics
{
    private long[] count = new long[16];       // [L] non-zeros of column j
    private double[] mean = new double[16];    // [L] running mean of column j's non-zeros
    private double[] m2 = new double[16];      // [L] running Σ (x − mean)² over column j's non-zeros
    private double[] maxAbs = new double[16];  // [L] max |x|

    /// <summary>L: the largest column seen + 1 (0 before any non-zero).</summary>
    public int Columns { get; private set; }

    /// <summary>Adds one row's non-zeros: columns 0-based and increasing (checked by the caller), values finite.</summary>
    public void Add(ReadOnlySpan<int> columns, ReadOnlySpan<float> values)
    {
        if (columns.Length == 0)
            return;
        if (columns[^1] >= Columns)
            Grow(columns[^1] + 1);
        for (int e = 0; e < columns.Length; e++)
        {
            int j = columns[e];
            double x = values[e];
            long c = ++count[j];
            double delta = x - mean[j];
            mean[j] += delta / c;
            m2[j] += delta * (x - mean[j]);
            maxAbs[j] = Math.Max(maxAbs[j], Math.Abs(x));
        }
    }

    private void Grow(int columns)
    {
        if (columns > SgdFormat.MaxSparseColumns)
            throw new ArgumentException($"feature index {columns} exceeds the {SgdFormat.MaxSparseColumns} features a sparse .sgd file keeps statistics for");
        if (columns > count.Length)
        {
            int capacity = (int)Math.Min(SgdFormat.MaxSparseColumns, Math.Max(2L * count.Length, columns));
            Array.Resize(ref count, capacity);
            Array.Resize(ref mean, capacity);
            Array.Resize(ref m2, capacity);
            Array.Resize(ref maxAbs, capacity);
        }
        Columns = columns;
    }

    /// <summary>Mean, population std (0 for a constant column, not replaced) and max |x| of the first L columns over <paramref name="rows"/> rows.</summary>
    public (double[] Mean, double[] Std, double[] MaxAbs) Finish(long rows)
    {
        int l = Columns;
        var totalMean = new double[l];
        var std = new double[l];
        for (int j = 0; j < l; j++)
        {
            long c = count[j];
            totalMean[j] = c * mean[j] / rows;
            double total = m2[j] + (double)c * (rows - c) / rows * mean[j] * mean[j];
            std[j] = Math.Sqrt(Math.Max(total, 0) / rows);
        }
        return (totalMean, std, maxAbs[..l]);
    }
}
