using System.Globalization;
using SoftmaxGpu.Data;

namespace SoftmaxGpu.Bench;

/// <summary>
/// A sparse benchmark problem: N rows, D features, K classes at a density (non-zeros / (N·D)), written
/// NxDxK@density (50000x300000x57@0.0003: a text set's shape). Its rows are synthetic and Zipf-like
/// (<see cref="Rows"/>): a few columns in most rows, most columns rare, as words and clicks are.
/// </summary>
public sealed record SparseShape(int N, int D, int K, double Density)
{
    /// <summary>Whether <paramref name="text"/> names a sparse shape (has '@density').</summary>
    public static bool Is(string text) => text.Contains('@');

    public static SparseShape Parse(string text)
    {
        string[] parts = text.Split('@');
        if (parts.Length != 2 || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double density) ||
            !(density > 0 && density <= 1))
            throw new ArgumentException($"a sparse shape is NxDxK@density with a density in (0, 1], e.g. 50000x300000x57@0.0003; got '{text}'");
        string[] sizes = parts[0].Split('x', 'X', '×');
        if (sizes.Length != 3 || !sizes.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0))
            throw new ArgumentException($"a sparse shape is NxDxK@density with three positive integers; got '{text}'");
        int[] v = sizes.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        if (v[2] < 2)
            throw new ArgumentException($"a shape needs K >= 2 classes; got '{text}'");
        if (density * v[0] * v[1] > int.MaxValue)
            throw new ArgumentException($"N·D·density must stay below 2^31 non-zeros; got '{text}'");
        return new SparseShape(v[0], v[1], v[2], density);
    }

    /// <summary>Non-zeros a row (at least one).</summary>
    public int PerRow => Math.Max(1, (int)Math.Round(Density * D));

    /// <summary>nnz: non-zeros in all.</summary>
    public long NonZeros => (long)PerRow * N;

    /// <summary>Bytes a gradient evaluation must move at least: X once (8 bytes a non-zero), W read and dW written (float32).</summary>
    public double Bytes => 8.0 * NonZeros + 2 * 4.0 * D * K;

    /// <summary>FLOPs of a gradient evaluation: 2·nnz·K for Z = X·W and 2·nnz·K for dW = Xᵀ·G.</summary>
    public double Flops => 4.0 * NonZeros * K;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{N}x{D}x{K}@{Density:G3}");

    /// <summary>
    /// Seeded rows of <see cref="PerRow"/> distinct columns each, column j drawn with probability ∝ 1/(j + 1)^0.9
    /// (Zipf-like), values in (0, 1]; labels uniform over K.
    /// </summary>
    public (SparseRows X, int[] Labels) Rows(int seed = 1)
    {
        var random = new Random(seed);
        // Inverse CDF of p(j) ∝ (j + 1)^−s on [0, D): sampled through the continuous approximation.
        const double s = 0.9;
        double top = Math.Pow(D + 1, 1 - s) - 1;
        int perRow = Math.Min(PerRow, D);
        var rowStart = new int[N + 1];
        var columns = new int[(long)perRow * N];
        var values = new float[columns.Length];
        var row = new SortedSet<int>();
        for (int r = 0; r < N; r++)
        {
            row.Clear();
            while (row.Count < perRow)
                row.Add(Math.Min(D - 1, (int)(Math.Pow(1 + random.NextDouble() * top, 1 / (1 - s)) - 1)));
            int at = r * perRow;
            foreach (int j in row)
            {
                columns[at] = j;
                values[at++] = (float)(1 - random.NextDouble());
            }
            rowStart[r + 1] = at;
        }
        int[] labels = Enumerable.Range(0, N).Select(_ => random.Next(K)).ToArray();
        return (new SparseRows(rowStart, columns, values, D), labels);
    }
}

/// <summary>One sparse shape's gradient evaluation on a device: median time, and against the floor of the same run.</summary>
public sealed record SparseBenchResult(string Device, SparseShape Shape, double EvaluationMs, double FloorMs, Ceiling Ceiling)
{
    public double OverFloor => EvaluationMs / FloorMs;
    /// <summary>Share of the copy bandwidth the evaluation's floor bytes reach.</summary>
    public double BandwidthShare => Shape.Bytes / (EvaluationMs / 1e3) / Ceiling.Bandwidth;
}
