using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Model;

namespace SoftmaxGpu.Training;

/// <summary>
/// Multi-label training and prediction: the tags of a <see cref="TagTable"/> become the 0/1 target matrix, trained
/// with <see cref="SigmoidCrossEntropy"/> by the same trainer, optimizers and engines as the multiclass model, and
/// predicted as per-tag probabilities σ(z) on the device.
/// </summary>
public static class TagPipeline
{
    /// <param name="kind">Where the tags came from (<see cref="ModelKind.MultiLabelTags"/> or <see cref="ModelKind.MultiLabelColumns"/>).</param>
    /// <param name="tagColumns">The tag columns in the user's order (<see cref="ModelKind.MultiLabelColumns"/>: every one is a
    /// tag, even one that no row has); null: the tags found in the tags column.</param>
    /// <param name="start">A saved multi-label model to continue from: its tags, standardization and θ are kept.</param>
    public static (SoftmaxModel Model, TrainResult Result) Train(Gpu gpu, Table train, Table? validation, ModelKind kind,
        string[]? tagColumns, TrainOptions options, Action<EpochReport>? onEpoch = null, SoftmaxModel? start = null)
    {
        if (!kind.IsMultiLabel())
            throw new ArgumentException($"{kind} is not a multi-label kind", nameof(kind));
        if (start is { Kind: ModelKind.Multiclass })
            throw new ArgumentException("--init-model: the model is multiclass (softmax); multi-label training continues only a multi-label model");
        start?.CheckColumns(train.FeatureNames, train.Source);
        if (validation is not null)
            Pipeline.CheckValidationColumns(validation.Source, validation.FeatureNames, train.FeatureNames);

        string[] tags = start?.Classes ?? tagColumns ?? TagTable.DistinctTags(train);
        Standardizer standardizer = start?.Standardizer ?? Standardizer.Fit(train.Features, train.Rows, train.Dim, options.Scale);
        EncodedSet trainSet = Encode(train, tags, standardizer);
        EncodedSet? validationSet = validation is null ? null : Encode(validation, tags, standardizer);
        TrainOptions multiLabel = Pipeline.From(start, options) with { Loss = SigmoidCrossEntropy.Instance };

        TrainResult result = Trainer.Train(gpu, trainSet, validationSet, tags.Length, multiLabel, onEpoch);
        return (Pipeline.ModelOf(kind == ModelKind.MultiLabelColumns ? "" : train.LabelName, tags, train.FeatureNames, standardizer,
            result.Theta, kind), result);
    }

    /// <summary>Standardized X [N, D], the tag targets Y [N, K] and placeholder class indices (unused by the loss).</summary>
    public static EncodedSet Encode(Table table, IReadOnlyList<string> tags, Standardizer standardizer) =>
        new(standardizer.Apply(table.Features), new int[table.Rows], TagTable.Encode(table, tags), table.Rows, table.Dim);

    /// <summary>The training and validation rows of a seeded split stratified by tag set (rows with the same tags split alike).</summary>
    public static (Table Train, Table Validation) Split(Table table, double fraction, int seed)
    {
        string[] sets = table.Labels.Distinct(StringComparer.Ordinal).ToArray();
        var index = sets.Select((s, i) => (s, i)).ToDictionary(p => p.s, p => p.i, StringComparer.Ordinal);
        (int[] trainRows, int[] valRows) = Data.Split.Stratified(table.Labels.Select(l => index[l]).ToArray(), fraction, seed);
        return (table.Subset(trainRows), table.Subset(valRows));
    }

    /// <summary>
    /// Every row's tag probabilities σ(z) [N, K], computed on the device in blocks; with <paramref name="withTargets"/>
    /// also the mean binary cross-entropy (summed over the tags) against the table's tags.
    /// </summary>
    public static (float[] Probabilities, float[]? Targets, double? Loss) Predict(Gpu gpu, SoftmaxModel model, Table table,
        bool withTargets)
    {
        if (!model.Kind.IsMultiLabel())
            throw new ArgumentException("not a multi-label model", nameof(model));
        model.CheckColumns(table.FeatureNames, table.Source);
        int n = table.Rows, k = model.K;
        EncodedSet set = withTargets
            ? Encode(table, model.Classes, model.Standardizer)
            : new EncodedSet(model.Standardizer.Apply(table.Features), new int[n], null, n, table.Dim);
        var probabilities = new float[(long)n * k];
        double? loss = Pipeline.Predict(gpu, model, set, withTargets,
            block => block.Probabilities.AsSpan(0, block.Rows * k).CopyTo(probabilities.AsSpan((int)(block.Start * k))));
        return (probabilities, set.Targets, loss);
    }
}
