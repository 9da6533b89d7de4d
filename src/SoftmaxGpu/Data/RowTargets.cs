using SoftmaxGpu.Model;

namespace SoftmaxGpu.Data;

/// <summary>What a row carries as its target besides the features (a .sgd file of version 3 records it).</summary>
public enum RowTargetKind
{
    /// <summary>A class label (version 1 files: always).</summary>
    Labels,
    /// <summary>A row of K class probabilities (train --target-columns).</summary>
    Probabilities,
    /// <summary>A set of tags from one column of '|'-separated tags (train --multi-label --label COLUMN).</summary>
    MultiLabelTags,
    /// <summary>A set of tags from one 0/1 column per tag (train --multi-label --label a,b,c).</summary>
    MultiLabelColumns,
}

/// <summary>
/// Where a CSV row's target comes from, as <c>train</c> reads it — a label column, probability columns, or multi-label
/// tags (a tags column or 0/1 tag columns) — and the column of its weight, if any; and what a .sgd file converted from
/// such rows holds (<see cref="SgdReader.Targets"/>).
/// </summary>
public sealed record RowTargets
{
    public RowTargetKind Kind { get; init; }
    /// <summary>The label column (<see cref="RowTargetKind.Labels"/>) or tags column (<see cref="RowTargetKind.MultiLabelTags"/>); null: the last column.</summary>
    public string? Label { get; init; }
    /// <summary>
    /// The K target or tag names, in Y's column order: the probability or 0/1 tag columns as given, or a tags
    /// column's tags once they are known (<see cref="TagTable.DistinctTags(string, IEnumerable{string})"/>); null for labels.
    /// </summary>
    public string[]? Names { get; init; }
    /// <summary>The column of each row's weight, or null.</summary>
    public string? WeightColumn { get; init; }

    /// <summary>K where every row carries a target row, else 0.</summary>
    public int Width => Kind == RowTargetKind.Labels ? 0 : Names?.Length ?? 0;

    public bool IsMultiLabel => Kind is RowTargetKind.MultiLabelTags or RowTargetKind.MultiLabelColumns;

    /// <summary>Labels alone, without weights: what a version 1 file holds.</summary>
    public bool LabelsOnly => Kind == RowTargetKind.Labels && WeightColumn is null;

    /// <summary>
    /// The targets train's options name: --target-columns, or --multi-label with --label (a tags column, or
    /// comma-separated 0/1 tag columns: <see cref="TagTable.KindOf"/>), else a label column; and --weight-column.
    /// </summary>
    public static RowTargets For(string? label, bool multiLabel, string[]? targetColumns, string? weightColumn) =>
        multiLabel && TagTable.KindOf(label) == ModelKind.MultiLabelColumns
            ? new() { Kind = RowTargetKind.MultiLabelColumns, Names = TagTable.TagColumns(label), WeightColumn = weightColumn }
            : multiLabel ? new() { Kind = RowTargetKind.MultiLabelTags, Label = label, WeightColumn = weightColumn }
            : targetColumns is not null ? new() { Kind = RowTargetKind.Probabilities, Names = targetColumns, WeightColumn = weightColumn }
            : new() { Kind = RowTargetKind.Labels, Label = label, WeightColumn = weightColumn };

    /// <summary>The name a .sgd footer stores for each kind.</summary>
    public static string FileName(RowTargetKind kind) => kind switch
    {
        RowTargetKind.Labels => "labels",
        RowTargetKind.Probabilities => "probabilities",
        RowTargetKind.MultiLabelTags => ModelKind.MultiLabelTags.FileName(),
        RowTargetKind.MultiLabelColumns => ModelKind.MultiLabelColumns.FileName(),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The kind a footer names, or null for a name this build does not know.</summary>
    public static RowTargetKind? FromFileName(string name) =>
        Enum.GetValues<RowTargetKind>().Cast<RowTargetKind?>().FirstOrDefault(k => FileName(k!.Value) == name);

    /// <summary>The model kind a multi-label file trains (tags column or tag columns).</summary>
    public ModelKind ModelKind => Kind switch
    {
        RowTargetKind.MultiLabelTags => ModelKind.MultiLabelTags,
        RowTargetKind.MultiLabelColumns => ModelKind.MultiLabelColumns,
        _ => ModelKind.Multiclass,
    };

    /// <summary>
    /// The first index of the largest value: a probability row's class, as train takes it for accuracy (and a row of
    /// logits' prediction, the dense engines' rule).
    /// </summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int c = 1; c < row.Length; c++)
            if (row[c] > row[best])
                best = c;
        return best;
    }

    /// <summary>What the rows carry, in words, for "data:" lines and messages.</summary>
    public string Describe() =>
        (Kind switch
        {
            RowTargetKind.Probabilities => $"probability targets {string.Join(',', Names!)}",
            RowTargetKind.MultiLabelTags => $"multi-label (tags in column '{Label}')",
            RowTargetKind.MultiLabelColumns => $"multi-label (tag columns {string.Join(',', Names!)})",
            _ => $"labels in column '{Label}'",
        }) + (WeightColumn is null ? "" : $", weights from column '{WeightColumn}'");
}
