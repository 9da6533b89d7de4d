using SoftmaxGpu.Data;

namespace SoftmaxGpu.Training;

/// <summary>
/// How sparse rows pass through a device (<see cref="DeviceSparseObjective"/>): consecutive blocks of at most
/// <see cref="Rows"/> rows and <see cref="Entries"/> non-zeros. <see cref="Resident"/>: the training rows are one block,
/// uploaded once and kept (the validation rows too, run through Z in blocks of N rows); otherwise every pass uploads
/// the blocks one after another into one set of buffers, validation rows included, and adds each block's dθ into the
/// total in block order (the same bits on every run).
/// Device bytes (K classes, D features, P = D·K + K parameters): θ and dθ in float, 8P (streaming: a block's dθ,
/// 4P more); a block of R rows and E non-zeros: its CSR 4(R + 1) + 8E, labels 4R, its CSC copy 4(D + 1) + 8E,
/// Z and Q/G 8RK, the rows' (max, log-sum) 8R, and its target rows 4RK where the rows have them (tag sets).
/// </summary>
public sealed record SparseBlocks(int Rows, long Entries, bool Resident)
{
    /// <summary>Device bytes with every training row (and <paramref name="validation"/>'s) resident.</summary>
    /// <param name="targetRows">Whether the rows come with target rows Y [N, K] (multi-label tag sets, label smoothing, class weights).</param>
    public static long ResidentBytes(SparseRows train, SparseRows? validation, int k, bool targetRows = false) =>
        ThetaBytes(train.Dim, k, streamed: false) + BlockBytes(train.Rows, train.NonZeros, train.Dim, k, targetRows)
        + (validation is null ? 0 : validation.Bytes + 4L * validation.Rows * (targetRows ? 1 + k : 1));

    /// <summary>
    /// The blocks <paramref name="train"/> (and <paramref name="validation"/>) pass through a device in, where it may
    /// use <paramref name="budget"/> bytes: resident where everything fits, else the largest blocks that fit; one
    /// <see cref="InsufficientMemoryException"/> naming the sizes where not even θ and the longest row fit.
    /// </summary>
    /// <param name="allowed">How the budget was set, for the error (e.g. "--device-memory").</param>
    /// <param name="targetRows">Whether the rows come with target rows Y [N, K] (<see cref="ResidentBytes"/>).</param>
    public static SparseBlocks Plan(SparseRows train, SparseRows? validation, int k, long budget, string allowed, bool targetRows = false)
    {
        if (ResidentBytes(train, validation, k, targetRows) <= budget)
            return new SparseBlocks(train.Rows, long.MaxValue, Resident: true);
        int d = train.Dim;
        long longest = Math.Max(LongestRow(train), validation is null ? 0 : LongestRow(validation));
        // What is left for a block once θ, dθ and a block's dθ are there, less the block's CSC column offsets.
        long left = budget - ThetaBytes(d, k, streamed: true) - 4L * (d + 2);
        // Room for rows of 1.5× the average density, and at least for the longest row.
        double perRow = 16 + (targetRows ? 12.0 : 8.0) * k, perEntry = 16;
        double average = train.Rows == 0 ? 0 : (double)train.NonZeros / train.Rows;
        long rows = (long)(left / (perRow + perEntry * 1.5 * average));
        long entries = (long)((left - perRow * rows) / perEntry);
        if (entries < longest)
        {
            entries = longest;
            rows = (long)((left - perEntry * longest) / perRow);
        }
        if (rows < 1)
            throw new InsufficientMemoryException(
                $"sparse rows streamed through the device need at least {ByteSize.Format(ThetaBytes(d, k, streamed: true) + BlockBytes(1, longest, d, k, targetRows))} " +
                $"(θ and two gradients of {d} features × {k} classes in float, and a block of the longest row, {longest} non-zeros), " +
                $"more than the {ByteSize.Format(budget)} it may use ({allowed}): train them on the host engine (--device host), " +
                "or reduce the features or classes");
        long most = Math.Max(train.NonZeros, validation?.NonZeros ?? 0);
        return new SparseBlocks((int)Math.Min(rows, Math.Max(1, train.Rows)), Math.Min(entries, Math.Max(1, most)), Resident: false);
    }

    /// <summary>θ and dθ in float (streamed: and a block's dθ), with the totals.</summary>
    private static long ThetaBytes(int d, int k, bool streamed) => (streamed ? 3 : 2) * 4L * ((long)d * k + k) + 64;

    /// <summary>One block of <paramref name="rows"/> rows and <paramref name="entries"/> non-zeros on the device.</summary>
    private static long BlockBytes(long rows, long entries, int d, int k, bool targetRows) =>
        4 * (rows + 1) + 8 * entries + 4 * rows // CSR, y
        + 4L * (d + 1) + 8 * entries // CSC
        + 8 * rows * k + 8 * rows // Z, Q/G, (max, log-sum)
        + (targetRows ? 4 * rows * k : 0); // Y

    private static long LongestRow(SparseRows x)
    {
        long longest = 0;
        for (int r = 0; r < x.Rows; r++)
            longest = Math.Max(longest, x.RowStart[r + 1] - x.RowStart[r]);
        return longest;
    }

    /// <summary>The blocks of <paramref name="x"/> in row order: (first row, rows), each within <see cref="Rows"/> and <see cref="Entries"/>.</summary>
    public IEnumerable<(int First, int Count)> Of(SparseRows x)
    {
        for (int first = 0; first < x.Rows;)
        {
            int count = 0;
            while (first + count < x.Rows && count < Rows
                   && x.RowStart[first + count + 1] - (long)x.RowStart[first] <= Entries)
                count++;
            if (count == 0)
                throw new InvalidOperationException($"row {first} has more non-zeros than a block holds ({Entries})");
            yield return (first, count);
            first += count;
        }
    }

    /// <summary>For the summary: how the rows pass through the device.</summary>
    public string Describe(SparseRows train) => Resident
        ? "sparse rows resident on the device (CSR and its CSC copy)"
        : $"sparse rows streamed through the device in {Of(train).Count()} blocks of at most {Rows} rows each pass";
}
