namespace SoftmaxGpu.Data;

/// <summary>
/// Where the parts of a dense .sgd block lie (<see cref="SgdFormat"/>): a block of <c>rows</c> rows holds X [rows, D],
/// y [rows], then, in a version 3 file, Y [rows, K] where the rows carry target rows and w [rows] where they carry
/// weights, then the checksum. Each part is <c>rows</c> × its width of 4-byte values, so part p starts at
/// 4·rows·(the widths before it).
/// </summary>
/// <param name="Dim">D: features per row.</param>
/// <param name="TargetWidth">K where every row carries a target row, else 0.</param>
/// <param name="Weights">Whether every row carries a weight.</param>
public readonly record struct SgdBlockLayout(int Dim, int TargetWidth, bool Weights)
{
    /// <summary>4-byte values a row takes besides its label: D, plus K and 1 where the rows carry them.</summary>
    public int RowFloats => Dim + TargetWidth + (Weights ? 1 : 0);

    /// <summary>Whether the rows carry more than version 1's features and label (a version 3 file).</summary>
    public bool Extended => TargetWidth > 0 || Weights;

    /// <summary>Bytes of a block of <paramref name="rows"/> rows, checksum included.</summary>
    public long Bytes(int rows) => 4L * rows * (RowFloats + 1) + SgdFormat.BlockChecksumBytes;

    /// <summary>Where, in a block of <paramref name="rows"/> rows, y starts.</summary>
    public long LabelsAt(int rows) => 4L * rows * Dim;

    /// <summary>Where, in a block of <paramref name="rows"/> rows, Y starts.</summary>
    public long TargetsAt(int rows) => 4L * rows * (Dim + 1);

    /// <summary>Where, in a block of <paramref name="rows"/> rows, w starts.</summary>
    public long WeightsAt(int rows) => 4L * rows * (Dim + 1 + TargetWidth);

    /// <summary>Where the footer must start for N rows in blocks of R.</summary>
    public long FooterOffset(long rows, int blockRows)
    {
        long fullBlocks = rows / blockRows;
        int lastRows = (int)(rows % blockRows);
        return SgdFormat.PreambleBytes + fullBlocks * Bytes(blockRows) + (lastRows > 0 ? Bytes(lastRows) : 0);
    }
}
