using SoftmaxGpu.Data;

namespace SoftmaxGpu.Model;

/// <summary>
/// A trained linear classifier: logits z = W·x' + b on standardized features x' = (x − mean) / std. Multiclass
/// (<see cref="ModelKind.Multiclass"/>): the predicted class is argmax z, probabilities softmax(z). Multi-label:
/// the classes are tags, each with probability σ(z_c), predicted where it reaches the threshold.
/// W: [K, D] row-major, b: [K].
/// </summary>
public sealed class SoftmaxModel
{
    public SoftmaxModel(string labelName, string[] classes, string[] featureNames, Standardizer standardizer,
        float[] weights, float[] bias, ModelKind kind = ModelKind.Multiclass)
    {
        int k = classes.Length;
        int d = featureNames.Length;
        if (standardizer.Mean.Length != d)
            throw new ArgumentException($"standardizer has {standardizer.Mean.Length} features, expected {d}");
        if (weights.Length != k * d || bias.Length != k)
            throw new ArgumentException($"W must be [{k}, {d}] and b [{k}]");
        LabelName = labelName;
        Classes = classes;
        FeatureNames = featureNames;
        Standardizer = standardizer;
        Weights = weights;
        Bias = bias;
        Kind = kind;
    }

    /// <summary>How C was chosen (cross-validation or a validation set over several values), or null (one given C).</summary>
    public ModelSelection? Selection { get; init; }

    /// <summary>Multiclass or multi-label, and where the labels are (the model file records it).</summary>
    public ModelKind Kind { get; }

    /// <summary>The label column (multi-label tags: the tags column; multi-label columns: "", the tags name them).</summary>
    public string LabelName { get; }
    public string[] Classes { get; }
    public string[] FeatureNames { get; }
    public Standardizer Standardizer { get; }
    /// <summary>W: [K, D] row-major.</summary>
    public float[] Weights { get; }
    /// <summary>b: [K].</summary>
    public float[] Bias { get; }
    public int K => Classes.Length;
    public int D => FeatureNames.Length;

    /// <summary>The same model with <paramref name="selection"/> as the record of how its C was chosen.</summary>
    public SoftmaxModel WithSelection(ModelSelection? selection) =>
        new(LabelName, Classes, FeatureNames, Standardizer, Weights, Bias, Kind) { Selection = selection };

    /// <summary>Checks that a table has this model's feature columns, in order, and says what differs.</summary>
    public void CheckColumns(IReadOnlyList<string> featureNames, string source)
    {
        if (featureNames.SequenceEqual(FeatureNames, StringComparer.Ordinal))
            return;
        string[] missing = FeatureNames.Except(featureNames).ToArray();
        string[] extra = featureNames.Except(FeatureNames).ToArray();
        string detail = missing.Length == 0 && extra.Length == 0
            ? "the same columns in a different order"
            : $"missing: {Describe(missing)}; unexpected: {Describe(extra)}";
        throw new DataFormatException(
            $"{source}: feature columns differ from the model's {D} ({detail})");
    }

    private static string Describe(string[] names) =>
        names.Length == 0 ? "none" : string.Join(", ", names.Take(8)) + (names.Length > 8 ? $" … ({names.Length})" : "");
}
