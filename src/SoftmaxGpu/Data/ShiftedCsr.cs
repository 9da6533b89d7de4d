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
    /// Density (entries / (N·D)) below which the passes read the shifted rows. REVIEW: set from the stacked cross-validation
    /// pass measured on this project's machine (bench/RESULTS.md, "shifted rows").
    /// </summary>
    public const double DenseFrom = 0.30;

    /// <summary>Fewest features for which the shifted rows are worth it (a row's entries then outnumber its per-row costs).</summary>
    public const int MinFeatures = 64;

    private ShiftedCsr(long[] rowStart, int[] columns, float[] values, float[] shift, double density)
    {
        (RowStart, Columns, Values, Shift, Density) = (rowStart, columns, values, shift, density);
    }

    /// <summary>[N + 1]: row r's entries are RowStart[r] … RowStart[r + 1] − 1.</summary>
    public long[] RowStart { get; }

    /// <summary>[entries] each entry's column, increasing within a row.</summary>
    public int[] Columns { get; }

    /// <summary>[entries] x[r, j] − s[j].</summary>
    public float[] Values { get; }

    /// <summary>s: [D] each column's most common value (where one fills more than a quarter of it; else a value of it).</summary>
    public float[] Shift { get; }

    /// <summary>Entries / (N·D).</summary>
    public double Density { get; }

    /// <summary>
    /// The shifted rows of X [rows, d], or null where they would not pay: fewer than <see cref="MinFeatures"/> features,
    /// or a density of at least <paramref name="denseFrom"/> (then nothing is allocated beyond s).
    /// </summary>
    /// <param name="minFeatures">Fewest features worth it (<see cref="MinFeatures"/>; the tests take smaller rows).</param>
    public static ShiftedCsr? Find(float[] x, int rows, int d, double denseFrom = DenseFrom, int minFeatures = MinFeatures)
    {
        if (d < minFeatures || rows == 0)
            return null;
        float[] shift = Commonest(x, rows, d);
        var rowStart = new long[rows + 1];
        for (int r = 0; r < rows; r++)
            rowStart[r + 1] = rowStart[r] + Differing(x.AsSpan(r * d, d), shift);
        double density = (double)rowStart[rows] / ((double)rows * d);
        if (density >= denseFrom || rowStart[rows] > Array.MaxLength)
            return null;
        var columns = new int[rowStart[rows]];
        var values = new float[rowStart[rows]];
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

    /// <summary>Values of each column that <see cref="Commonest"/> keeps count of: it finds any that fills more than 1/(this + 1) of it.</summary>
    private const int Candidates = 3;

    /// <summary>
    /// Each column's most common value among the few frequent enough to matter: the Misra–Gries summary (one pass, row by
    /// row, <see cref="Candidates"/> counters a column) keeps every value that fills more than a quarter of its column,
    /// and a second pass counts them exactly. A column without such a value gets one of its values, and only the density
    /// shows it. (A majority vote alone misses MNIST's middle pixels, where 0 is a quarter to a half of the column.)
    /// </summary>
    private static float[] Commonest(float[] x, int rows, int d)
    {
        var candidate = new float[Candidates * d];
        var votes = new int[Candidates * d];
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.AsSpan(r * d, d);
            for (int j = 0; j < d; j++)
                Vote(row[j], candidate.AsSpan(Candidates * j, Candidates), votes.AsSpan(Candidates * j, Candidates));
        }
        Array.Clear(votes);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = x.AsSpan(r * d, d);
            for (int j = 0; j < d; j++)
            {
                for (int c = 0; c < Candidates; c++)
                    votes[Candidates * j + c] += row[j] == candidate[Candidates * j + c] ? 1 : 0;
            }
        }
        var shift = new float[d];
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
