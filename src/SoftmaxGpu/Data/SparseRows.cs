namespace SoftmaxGpu.Data;

/// <summary>
/// Rows of features kept sparse, in compressed sparse row (CSR) form: row r's non-zeros are
/// <c>Columns[RowStart[r] .. RowStart[r + 1])</c> with their <c>Values</c>, columns 0-based, strictly increasing
/// within a row, each below <see cref="Dim"/>. A column left out is a zero. Text, click and one-hot data have
/// hundreds of thousands of columns and tens of non-zeros a row: dense they do not fit, CSR they take
/// 8 bytes a non-zero (<see cref="Bytes"/>).
/// Shapes: RowStart [N + 1], Columns [nnz], Values [nnz]; nnz &lt; 2³¹ (one .NET array; larger sets stream).
/// </summary>
public sealed class SparseRows
{
    public SparseRows(int[] rowStart, int[] columns, float[] values, int dim)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rowStart.Length, 1, nameof(rowStart));
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1, nameof(dim));
        if (columns.Length != values.Length || rowStart[0] != 0 || rowStart[^1] != columns.Length)
            throw new ArgumentException($"CSR arrays disagree: {rowStart.Length - 1} rows ending at {rowStart[^1]}, " +
                                        $"{columns.Length} columns, {values.Length} values");
        (RowStart, Columns, Values, Dim) = (rowStart, columns, values, dim);
    }

    /// <summary>RowStart [N + 1]: row r's non-zeros are entries RowStart[r] … RowStart[r + 1] − 1.</summary>
    public int[] RowStart { get; }
    /// <summary>Columns [nnz]: 0-based, strictly increasing within each row.</summary>
    public int[] Columns { get; }
    /// <summary>Values [nnz].</summary>
    public float[] Values { get; }
    /// <summary>D: columns of the dense matrix these rows stand for.</summary>
    public int Dim { get; }

    /// <summary>N: rows.</summary>
    public int Rows => RowStart.Length - 1;
    /// <summary>nnz: stored entries.</summary>
    public long NonZeros => Columns.Length;
    /// <summary>nnz / (N·D).</summary>
    public double Density => Rows == 0 ? 0 : (double)NonZeros / ((double)Rows * Dim);
    /// <summary>Bytes of the three arrays.</summary>
    public long Bytes => 4L * RowStart.Length + 8L * NonZeros;

    /// <summary>The non-zero columns of row r.</summary>
    public ReadOnlySpan<int> ColumnsOf(int r) => Columns.AsSpan(RowStart[r], RowStart[r + 1] - RowStart[r]);
    /// <summary>The non-zero values of row r.</summary>
    public ReadOnlySpan<float> ValuesOf(int r) => Values.AsSpan(RowStart[r], RowStart[r + 1] - RowStart[r]);

    /// <summary>The rows <paramref name="rows"/> (in that order) as a new CSR set.</summary>
    public SparseRows Select(ReadOnlySpan<int> rows)
    {
        var start = new int[rows.Length + 1];
        long total = 0;
        for (int i = 0; i < rows.Length; i++)
            start[i + 1] = checked((int)(total += RowStart[rows[i] + 1] - RowStart[rows[i]]));
        var columns = new int[total];
        var values = new float[total];
        for (int i = 0; i < rows.Length; i++)
        {
            ColumnsOf(rows[i]).CopyTo(columns.AsSpan(start[i]));
            ValuesOf(rows[i]).CopyTo(values.AsSpan(start[i]));
        }
        return new SparseRows(start, columns, values, Dim);
    }

    /// <summary>Rows [first, first + count) densified into X [count, D] (prediction and tests; never the whole set).</summary>
    public void Densify(int first, int count, Span<float> x)
    {
        x[..checked(count * Dim)].Clear();
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<int> columns = ColumnsOf(first + i);
            ReadOnlySpan<float> values = ValuesOf(first + i);
            for (int e = 0; e < columns.Length; e++)
                x[i * Dim + columns[e]] = values[e];
        }
    }
}
