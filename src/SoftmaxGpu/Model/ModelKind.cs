namespace SoftmaxGpu.Model;

/// <summary>
/// What a model's classes are and where its labels come from: one class per row (softmax cross-entropy), or a set
/// of tags per row (a sigmoid and binary cross-entropy per tag), given as one column of '|'-separated tags or as
/// one 0/1 column per tag.
/// </summary>
public enum ModelKind
{
    /// <summary>Exactly one class per row, in the label column; softmax cross-entropy.</summary>
    Multiclass,
    /// <summary>A set of tags per row in one column, separated by '|' (empty: no tag); sigmoid cross-entropy per tag.</summary>
    MultiLabelTags,
    /// <summary>One 0/1 column per tag, named as the tag; sigmoid cross-entropy per tag.</summary>
    MultiLabelColumns,
}

/// <summary>Names of the kinds in the model file and in messages.</summary>
public static class ModelKinds
{
    public static bool IsMultiLabel(this ModelKind kind) => kind != ModelKind.Multiclass;

    /// <summary>The name the model file stores.</summary>
    public static string FileName(this ModelKind kind) => kind switch
    {
        ModelKind.Multiclass => "multiclass",
        ModelKind.MultiLabelTags => "multi-label-tags",
        ModelKind.MultiLabelColumns => "multi-label-columns",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>The kind a model file names, or null for a name this build does not know.</summary>
    public static ModelKind? FromFileName(string name) =>
        Enum.GetValues<ModelKind>().Cast<ModelKind?>().FirstOrDefault(k => k!.Value.FileName() == name);
}
