using SoftmaxGpu.Data;

namespace SoftmaxGpu.Training;

/// <summary>
/// Sparse rows in host memory read as dense standardized blocks (<see cref="IRowSource"/>): what the dense engines'
/// streaming predictor reads, a block of rows at a time, so a set of hundreds of thousands of features is never
/// dense as a whole. Each value is standardized as <see cref="Standardizer.Apply"/> does it, zeros included.
/// </summary>
/// <param name="hasLabels">Whether <paramref name="labels"/> are the rows' classes (false: rows read for prediction).</param>
public sealed class SparseRowSource(SparseRows x, int[] labels, Standardizer standardizer, bool hasLabels = true) : IRowSource
{
    public bool HasLabels => hasLabels;

    /// <summary>X: the rows as read (unscaled).</summary>
    public SparseRows X => x;
    /// <summary>y: [N] class indices (zeros where the rows have no labels).</summary>
    public int[] Labels => labels;

    public long Rows => x.Rows;
    public int Dim => x.Dim;
    public int TargetWidth => 0;

    public void Read(long start, int count, RowBlock block)
    {
        int d = x.Dim, first = checked((int)start);
        x.Densify(first, count, block.Features);
        double[] mean = standardizer.Mean, std = standardizer.Std;
        for (int i = 0; i < count; i++)
        {
            Span<float> row = block.Features.Slice(i * d, d);
            for (int j = 0; j < d; j++)
                row[j] = (float)((row[j] - mean[j]) / std[j]);
        }
        labels.AsSpan(first, count).CopyTo(block.Labels);
    }
}
