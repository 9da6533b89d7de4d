namespace SoftmaxGpu.Kernels;

/// <summary>
/// Where element (row, col) of a matrix sits in its flat view: row * Row + col * Col. Transposes are
/// strides, so one product kernel serves Z = X·Wᵀ (W read as [D, K]) and dW = Gᵀ·X (G read as [K, B]).
/// </summary>
public readonly struct Strides
{
    public readonly int Row;
    public readonly int Col;

    public Strides(int row, int col)
    {
        Row = row;
        Col = col;
    }

    /// <summary>A row-major matrix with <paramref name="cols"/> columns.</summary>
    public static Strides RowMajor(int cols) => new(cols, 1);

    /// <summary>The transpose of a row-major matrix with <paramref name="cols"/> columns.</summary>
    public static Strides Transposed(int cols) => new(1, cols);

    public long Offset(int row, int col) => (long)row * Row + (long)col * Col;
}
