namespace SoftmaxGpu.Kernels.Sparse;

/// <summary>
/// The transpose of a CSR block (compressed sparse columns, CSC): column j's entries are
/// <c>Rows[ColumnStart[j] .. ColumnStart[j + 1])</c> with their <c>Values</c>, rows increasing within a column.
/// dW = Gᵀ·X walks X by column: with this copy each column of dW (a row of Wᵀ) is one sum over its own entries, in
/// row order, written once — no scatter, no atomics, the same bits on every engine and every run. Made once per
/// resident set or streamed block (a counting sort, two passes over the non-zeros).
/// Shapes: ColumnStart [D + 1], Rows [nnz], Values [nnz].
/// </summary>
public sealed class CscCopy
{
    private CscCopy(int[] columnStart, int[] rows, float[] values) => (ColumnStart, Rows, Values) = (columnStart, rows, values);

    public int[] ColumnStart { get; }
    public int[] Rows { get; }
    public float[] Values { get; }

    /// <summary>The CSC form of the CSR rows (rowStart [N + 1], columns and values [nnz]) of D columns.</summary>
    public static CscCopy Of(ReadOnlySpan<int> rowStart, ReadOnlySpan<int> columns, ReadOnlySpan<float> values, int dim)
    {
        int n = rowStart.Length - 1, nnz = rowStart[n] - rowStart[0];
        var columnStart = new int[dim + 1];
        for (int e = rowStart[0]; e < rowStart[n]; e++)
            columnStart[columns[e] + 1]++;
        for (int j = 0; j < dim; j++)
            columnStart[j + 1] += columnStart[j];
        var next = columnStart[..dim];
        var rows = new int[nnz];
        var copied = new float[nnz];
        for (int r = 0; r < n; r++)
            for (int e = rowStart[r]; e < rowStart[r + 1]; e++)
            {
                int at = next[columns[e]]++;
                rows[at] = r;
                copied[at] = values[e];
            }
        return new CscCopy(columnStart, rows, copied);
    }
}
