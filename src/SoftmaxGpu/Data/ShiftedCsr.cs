using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SoftmaxGpu.Kernels.Host;

namespace SoftmaxGpu.Data;

/// <summary>
/// Dense rows kept a second time as their difference from each column's most common value, s[j], in CSR
/// (<see cref="ShiftedRows"/>: the entries where x[r, j] ≠ s[j]), for the host engine's passes,
/// whose products then cost those entries instead of N·D. Data that is sparse before it is standardized stays so after:
/// every raw 0 of column j becomes the same value (0 − μ_j)/σ_j, its most common one (MNIST: 19% of the entries differ).
/// </summary>
public sealed class ShiftedCsr
{
    /// <summary>
    /// Density (entries / (N·D)) below which the passes read the shifted rows. Measured on this project's 2-core machine
    /// (bench/RESULTS.md, "shifted rows"): at MNIST's 0.19 and 40 logits a row the stacked pass's products take 4.0 ns an
    /// entry a core, 0.6 µs a row, against 1.4 µs dense; at that cost an entry they would break even near 0.45 (an
    /// estimate: no other density was run). 0.30 keeps a margin for shapes not measured.
    /// </summary>
    public const double DenseFrom = 0.30;

    /// <summary>Fewest features for which the shifted rows are worth it (a row's entries then outnumber its per-row costs).</summary>
    public const int MinFeatures = 64;

    private ShiftedCsr(long[] rowStart, int[] columns, float[] values, float[] shift, double density)
    {
        (RowStart, Columns, Values, Shift, Density) = (rowStart, columns, values, shift, density);
        (BlockStart, BlockColumns, EntryStart, BlockRows, BlockValues) = ByBlocks(rowStart, columns, values, shift.Length);
    }

    /// <summary>[N + 1]: row r's entries are RowStart[r] … RowStart[r + 1] − 1.</summary>
    public long[] RowStart { get; }

    /// <summary>[entries] each entry's column, increasing within a row.</summary>
    public int[] Columns { get; }

    /// <summary>[entries] x[r, j] − s[j].</summary>
    public float[] Values { get; }

    /// <summary>s: [D] each column's most common value (where one fills more than a quarter of it; else a value of it).</summary>
    public float[] Shift { get; }

    /// <summary>[blocks + 1] (<see cref="ShiftedBlocks"/>): where each block's columns begin among the items.</summary>
    public long[] BlockStart { get; }

    /// <summary>[items] each item's column (a column with entries in a block).</summary>
    public int[] BlockColumns { get; }

    /// <summary>[items + 1] where each item's entries begin.</summary>
    public long[] EntryStart { get; }

    /// <summary>[entries] each entry's row within its block.</summary>
    public byte[] BlockRows { get; }

    /// <summary>[entries] each entry's value, x[r, j] − s[j].</summary>
    public float[] BlockValues { get; }

    /// <summary>Entries / (N·D).</summary>
    public double Density { get; }

    /// <summary>
    /// The shifted rows of X [rows, d], or null where they would not pay: fewer than <see cref="MinFeatures"/> features,
    /// or a density of at least <paramref name="denseFrom"/>; or where they would take more than half the memory still
    /// free (<see cref="Bytes"/>). Then nothing is allocated beyond s and the row starts.
    /// </summary>
    /// <param name="minFeatures">Fewest features worth it (<see cref="MinFeatures"/>; the tests take smaller rows).</param>
    public static ShiftedCsr? Find(float[] x, int rows, int d, double denseFrom = DenseFrom, int minFeatures = MinFeatures)
    {
        if (d < minFeatures || rows == 0)
            return null;
        // A first look at about SampleRows rows, evenly spaced: a set plainly too dense (1.5 × denseFrom, for the
        // sample's own commonest values and its size) is turned away for their price, not two passes over all of them.
        int step = Math.Max(1, rows / SampleRows);
        float[] shift = Commonest(x, rows, d, step);
        if (step > 1)
        {
            if (Differing(x, rows, d, step, shift) >= 1.5 * denseFrom * ((rows + step - 1) / step) * d)
                return null;
            shift = Commonest(x, rows, d, step: 1);
        }
        long[] rowStart = Pinned<long>(rows + 1);
        for (int r = 0; r < rows; r++)
            rowStart[r + 1] = rowStart[r] + Differing(x.AsSpan(r * d, d), shift);
        double density = (double)rowStart[rows] / ((double)rows * d);
        if (density >= denseFrom || rowStart[rows] > Array.MaxLength || Bytes(rows, d, rowStart[rows]) > Spare)
            return null;
        int[] columns = Pinned<int>(rowStart[rows]);
        float[] values = Pinned<float>(rowStart[rows]);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.AsSpan(r * d, d);
            long e = rowStart[r];
            for (int j = 0; j < d; j++)
            {
                if (row[j] != shift[j])
                    (columns[e], values[e++]) = (j, row[j] - shift[j]);
            }
        }
        return new ShiftedCsr(rowStart, columns, values, shift, density);
    }

    /// <summary>
    /// Bytes the shifted rows take at most: the CSR (8 an entry, 8 a row), the blocks (5 an entry, 12 an item: at most an
    /// item an entry, and at most D a block).
    /// </summary>
    public static long Bytes(int rows, int d, long entries) =>
        13 * entries + 8L * rows + 12 * Math.Min(entries, (long)(rows / ShiftedBlocks.BlockRows + 1) * d) + 4L * d;

    /// <summary>What the shifted rows may take: half the memory this process could still use (they are a second copy
    /// of the rows, an optimization, never a reason to run out).</summary>
    private static long Spare
    {
        get
        {
            GCMemoryInfo memory = GC.GetGCMemoryInfo();
            return Math.Max(0, memory.TotalAvailableMemoryBytes - memory.MemoryLoadBytes) / 2;
        }
    }

    /// <summary>The entries by blocks of <see cref="ShiftedBlocks.BlockRows"/> rows, column by column (a counting sort a block).</summary>
    private static (long[], int[], long[], byte[], float[]) ByBlocks(long[] rowStart, int[] columns, float[] values, int d)
    {
        int rows = rowStart.Length - 1, blocks = (rows + ShiftedBlocks.BlockRows - 1) / ShiftedBlocks.BlockRows;
        long[] blockStart = Pinned<long>(blocks + 1);
        var items = new List<int>();
        var entryStart = new List<long> { 0 };
        byte[] blockRows = Pinned<byte>(columns.Length);
        float[] blockValues = Pinned<float>(columns.Length);
        var count = new int[d];
        var next = new long[d];
        for (int b = 0; b < blocks; b++)
        {
            int first = b * ShiftedBlocks.BlockRows, last = Math.Min(rows, first + ShiftedBlocks.BlockRows);
            Array.Clear(count);
            for (long e = rowStart[first]; e < rowStart[last]; e++)
                count[columns[e]]++;
            long at = rowStart[first]; // a block's entries fill the same range by column as by row
            for (int j = 0; j < d; j++)
            {
                if (count[j] == 0)
                    continue;
                items.Add(j);
                next[j] = at;
                at += count[j];
                entryStart.Add(at);
            }
            blockStart[b + 1] = items.Count;
            for (int r = first; r < last; r++)
            {
                for (long e = rowStart[r]; e < rowStart[r + 1]; e++)
                {
                    long to = next[columns[e]]++;
                    (blockRows[to], blockValues[to]) = ((byte)(r - first), values[e]);
                }
            }
        }
        int[] itemColumns = Pinned<int>(items.Count);
        long[] itemEntries = Pinned<long>(entryStart.Count);
        items.CopyTo(itemColumns);
        entryStart.CopyTo(itemEntries);
        return (blockStart, itemColumns, itemEntries, blockRows, blockValues);
    }

    /// <summary>A zeroed array on the pinned heap: the passes take the arrays' addresses (<see cref="Pointers"/>).</summary>
    private static T[] Pinned<T>(long length) => GC.AllocateArray<T>(checked((int)length), pinned: true);

    /// <summary>The arrays' addresses for a pass (they are pinned: the addresses hold while this object lives).</summary>
    public unsafe ShiftedRows Pointers() => new(Address(RowStart), Address(Columns), Address(Values), Address(Shift),
        new ShiftedBlocks(Address(BlockStart), Address(BlockColumns), Address(EntryStart), Address(BlockRows), Address(BlockValues)));

    private static unsafe T* Address<T>(T[] array) where T : unmanaged =>
        (T*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));

    /// <summary>Rows the first look takes (<see cref="Find"/>).</summary>
    private const int SampleRows = 4096;

    /// <summary>Entries of rows 0, step, 2·step, … that differ from their column's value in <paramref name="shift"/>.</summary>
    private static long Differing(float[] x, int rows, int d, int step, float[] shift)
    {
        long differing = 0;
        for (int r = 0; r < rows; r += step)
            differing += Differing(x.AsSpan(r * d, d), shift);
        return differing;
    }

    /// <summary>Values of each column that <see cref="Commonest"/> keeps count of: it finds any that fills more than 1/(this + 1) of it.</summary>
    private const int Candidates = 3;

    /// <summary>
    /// Each column's most common value among the few frequent enough to matter: the Misra–Gries summary (one pass, row by
    /// row, <see cref="Candidates"/> counters a column) keeps every value that fills more than a quarter of its column,
    /// and a second pass counts them exactly. A column without such a value gets one of its values, and only the density
    /// shows it. (A majority vote alone misses MNIST's middle pixels, where 0 is a quarter to a half of the column.)
    /// </summary>
    /// <param name="step">Rows 0, step, 2·step, … are counted.</param>
    private static float[] Commonest(float[] x, int rows, int d, int step)
    {
        var candidate = new float[Candidates * d];
        var votes = new int[Candidates * d];
        for (int r = 0; r < rows; r += step)
        {
            ReadOnlySpan<float> row = x.AsSpan(r * d, d);
            for (int j = 0; j < d; j++)
                Vote(row[j], candidate.AsSpan(Candidates * j, Candidates), votes.AsSpan(Candidates * j, Candidates));
        }
        Array.Clear(votes);
        for (int r = 0; r < rows; r += step)
        {
            ReadOnlySpan<float> row = x.AsSpan(r * d, d);
            for (int j = 0; j < d; j++)
            {
                for (int c = 0; c < Candidates; c++)
                    votes[Candidates * j + c] += row[j] == candidate[Candidates * j + c] ? 1 : 0;
            }
        }
        float[] shift = Pinned<float>(d);
        for (int j = 0; j < d; j++)
        {
            int best = 0;
            for (int c = 1; c < Candidates; c++)
                best = votes[Candidates * j + c] > votes[Candidates * j + best] ? c : best;
            shift[j] = candidate[Candidates * j + best];
        }
        return shift;
    }

    /// <summary>One value into a column's Misra–Gries counters: its own counter up, else a free one taken, else all down.</summary>
    private static void Vote(float value, Span<float> candidate, Span<int> votes)
    {
        for (int c = 0; c < candidate.Length; c++)
        {
            if (votes[c] > 0 && candidate[c] == value)
            {
                votes[c]++;
                return;
            }
        }
        for (int c = 0; c < candidate.Length; c++)
        {
            if (votes[c] == 0)
            {
                (candidate[c], votes[c]) = (value, 1);
                return;
            }
        }
        for (int c = 0; c < votes.Length; c++)
            votes[c]--;
    }

    private static int Differing(ReadOnlySpan<float> row, float[] shift)
    {
        int count = 0;
        for (int j = 0; j < row.Length; j++)
            count += row[j] != shift[j] ? 1 : 0;
        return count;
    }
}
