using SoftmaxGpu.Data;
using SoftmaxGpu.Kernels.Sparse;

namespace SoftmaxGpu.Training;

/// <summary>
/// Sparse rows ready to train on, the CSR counterpart of <see cref="EncodedSet"/>: the features scaled (each value
/// divided by its column's std; never centred, which would fill every zero — the centre is folded into the
/// objective instead, <see cref="SparseObjective{THead}"/>), class indices, and the CSC copy dW = Gᵀ·X walks.
/// </summary>
public sealed class SparseSet
{
    private CscCopy? columns;

    /// <param name="x">X: CSR rows, already scaled.</param>
    /// <param name="labels">y: [N] class indices.</param>
    public SparseSet(SparseRows x, int[] labels)
    {
        if (labels.Length != x.Rows)
            throw new ArgumentException($"{x.Rows} rows but {labels.Length} labels");
        (X, Labels) = (x, labels);
    }

    public SparseRows X { get; }
    public int[] Labels { get; }
    /// <summary>Y: [N, K] target rows (label smoothing, class weights: each row its class's row of
    /// <see cref="Weighting.TargetTable"/>; multi-label: the 0/1 tags, <see cref="TagTable.Encode(string, IReadOnlyList{string}, IReadOnlyList{string})"/>),
    /// or null for the labels alone. The loss reads them in place of the labels.</summary>
    public float[]? Targets { get; init; }
    public int Rows => X.Rows;
    public int Dim => X.Dim;

    /// <summary>The CSC copy of X, made on first use (training needs it; scoring does not).</summary>
    public CscCopy Columns => columns ??= CscCopy.Of(X.RowStart, X.Columns, X.Values, X.Dim);

    /// <summary>Bytes in host memory: CSR, labels, and the CSC copy where made.</summary>
    public long Bytes => X.Bytes + 4L * Rows + (columns is null ? 0 : 4L * (X.Dim + 1) + 8L * X.NonZeros);

    /// <summary>The rows <paramref name="rows"/>, in order, with their labels and (where <paramref name="withTargets"/>) their target rows.</summary>
    public SparseSet Select(int[] rows, bool withTargets = true)
    {
        float[]? targets = null;
        if (withTargets && Targets is not null)
        {
            int k = Targets.Length / Rows;
            targets = new float[(long)rows.Length * k];
            for (int i = 0; i < rows.Length; i++)
                Targets.AsSpan((int)((long)rows[i] * k), k).CopyTo(targets.AsSpan((int)((long)i * k), k));
        }
        return new SparseSet(X.Select(rows), [.. rows.Select(r => Labels[r])]) { Targets = targets };
    }

    /// <summary>
    /// The rows of <paramref name="x"/> scaled by <paramref name="scaling"/> (x_j / std_j; the mean is not
    /// subtracted here), with <paramref name="labels"/> and, where given, <paramref name="targets"/> (<see cref="Targets"/>).
    /// </summary>
    public static SparseSet Scaled(SparseRows x, int[] labels, Standardizer scaling, float[]? targets = null)
    {
        var values = new float[x.NonZeros];
        for (long e = 0; e < values.Length; e++)
            values[e] = (float)(x.Values[e] / scaling.Std[x.Columns[e]]);
        return new SparseSet(new SparseRows(x.RowStart, x.Columns, values, x.Dim), labels) { Targets = targets };
    }
}
