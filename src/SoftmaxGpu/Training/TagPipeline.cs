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
        CheckStart(start, train.FeatureNames, train.Source);
        if (validation is not null)
            Pipeline.CheckValidationColumns(validation.Source, validation.FeatureNames, train.FeatureNames);

        string[] tags = start?.Classes ?? tagColumns ?? TagTable.DistinctTags(train);
        Standardizer standardizer = start?.Standardizer ?? Standardizer.Fit(train.Features, train.Rows, train.Dim, options.Scale);
        EncodedSet trainSet = Encode(train, tags, standardizer);
        EncodedSet? validationSet = validation is null ? null : Encode(validation, tags, standardizer);
        TrainOptions multiLabel = Pipeline.From(start, options) with { Loss = SigmoidCrossEntropy.Instance };

        TrainResult result = Trainer.Train(gpu, trainSet, validationSet, tags.Length, multiLabel, onEpoch);
        SoftmaxModel model = Pipeline.ModelOf(kind == ModelKind.MultiLabelColumns ? "" : train.LabelName, tags, train.FeatureNames,
            standardizer, result.Theta, kind);
        // LIBSVM rows made dense train centred, and keep the centre in the bias as sparse rows' models do (Pipeline.ScaleOnly).
        return (train.Sparse && start is null ? Pipeline.ScaleOnly(model) : model, result);
    }

    /// <summary>
    /// Chooses C among <paramref name="cs"/> for the sigmoid head (<see cref="CrossValidation"/>): by
    /// <paramref name="folds"/>-fold cross-validation, the rows in seeded folds not stratified (a row has no single class),
    /// or on <paramref name="validation"/> where given; a held-out fit scores its subset accuracy (a row is right when every
    /// tag is) or its mean binary cross-entropy summed over the tags, as multi-label training reports them. Returns the
    /// model fitted on every training row at the chosen C; the standardization is fitted once, the folds share it.
    /// </summary>
    public static (SoftmaxModel Model, PathResult Path) TrainPath(Gpu gpu, Table train, Table? validation, ModelKind kind,
        string[]? tagColumns, TrainOptions options, IReadOnlyCollection<double> cs, int? folds, PathScore score,
        Action<EpochReport>? onEpoch = null)
    {
        if (validation is not null)
            Pipeline.CheckValidationColumns(validation.Source, validation.FeatureNames, train.FeatureNames);
        string[] tags = tagColumns ?? TagTable.DistinctTags(train);
        Standardizer standardizer = Standardizer.Fit(train.Features, train.Rows, train.Dim, options.Scale);
        EncodedSet rows = Encode(train, tags, standardizer);
        TrainOptions multiLabel = options with { Loss = SigmoidCrossEntropy.Instance };
        PathResult path = validation is null
            ? CrossValidation.Run(gpu, rows, tags.Length, cs, folds!.Value, score, multiLabel, onEpoch)
            : CrossValidation.RunOnValidation(gpu, rows, Encode(validation, tags, standardizer), tags.Length, cs, score, multiLabel, onEpoch);
        SoftmaxModel model = Pipeline.ModelOf(kind == ModelKind.MultiLabelColumns ? "" : train.LabelName, tags, train.FeatureNames,
            standardizer, path.Refit.Theta, kind);
        return ((train.Sparse ? Pipeline.ScaleOnly(model) : model).WithSelection(path.Selection(folds ?? 0)), path);
    }

    /// <summary>
    /// Multi-label training on LIBSVM rows kept sparse (tag lists, <see cref="LibSvmOptions.MultiLabel"/>): the tags
    /// become the target rows Y [N, K] of the sigmoid head (<see cref="SigmoidCrossEntropy"/>) on the sparse engines
    /// (<see cref="SparseTraining"/>: the host engine's pass or a device's kernels), centred implicitly as softmax
    /// training on sparse rows is (<see cref="Pipeline.TrainSparse"/>): the same objective as the rows made dense.
    /// </summary>
    /// <param name="statistics">The scaling where already known (a sparse .sgd file's footer); null fits it on the rows.</param>
    public static (SoftmaxModel Model, TrainResult Result) TrainSparse(Gpu gpu, SparseTable train, SparseTable? validation,
        TrainOptions options, Action<EpochReport>? onEpoch = null, SoftmaxModel? start = null, Standardizer? statistics = null)
    {
        CheckStart(start, train.FeatureNames, train.Source);
        string[] tags = start?.Classes ?? TagTable.DistinctTags(train.Source, train.Labels);
        Standardizer scaling = Pipeline.SparseScaling(train, validation, options, start, statistics);
        SparseSet rows = Tagged(train, tags, scaling);
        SparseSet? held = validation is null ? null : Tagged(validation, tags, scaling);
        return Pipeline.FitSparse(gpu, train, rows, held, tags, scaling, options with { Loss = SigmoidCrossEntropy.Instance }, onEpoch,
            start, ModelKind.MultiLabelTags);
    }

    /// <summary>
    /// Chooses C among <paramref name="cs"/> for the sigmoid head on LIBSVM tag lists kept sparse
    /// (<see cref="SparseCrossValidation"/>): the rows in seeded folds by row, or scored on <paramref name="validation"/>
    /// where given, each held-out fit scored by its tags as <see cref="TrainPath"/> scores rows in memory; the scaling is
    /// fitted once (or is <paramref name="statistics"/>, a sparse .sgd file's footer) and the folds share it and its
    /// centre. Returns the model fitted on every training row at the chosen C, its centre folded into the bias.
    /// </summary>
    public static (SoftmaxModel Model, PathResult Path) TrainSparsePath(Gpu gpu, SparseTable train, SparseTable? validation,
        TrainOptions options, IReadOnlyCollection<double> cs, int? folds, PathScore score, Action<EpochReport>? onEpoch = null,
        Standardizer? statistics = null)
    {
        string[] tags = TagTable.DistinctTags(train.Source, train.Labels);
        Standardizer scaling = Pipeline.SparseScaling(train, validation, options, start: null, statistics);
        SparseSet rows = Tagged(train, tags, scaling);
        double[]? centre = Pipeline.Centre(scaling);
        TrainOptions multiLabel = options with { Loss = SigmoidCrossEntropy.Instance };
        PathResult path = validation is null
            ? SparseCrossValidation.Run(gpu, rows, tags.Length, centre, cs, folds!.Value, score, multiLabel, onEpoch)
            : SparseCrossValidation.RunOnValidation(gpu, rows, Tagged(validation, tags, scaling), tags.Length, centre, cs, score,
                multiLabel, onEpoch);
        SoftmaxModel model = Pipeline.ModelOf(train.LabelName, tags, train.FeatureNames, scaling, path.Refit.Theta,
            ModelKind.MultiLabelTags);
        return (Pipeline.ScaleOnly(model).WithSelection(path.Selection(folds ?? 0)), path);
    }

    /// <summary>Scaled CSR rows with their tags as target rows (the labels are placeholders the sigmoid head does not read).</summary>
    private static SparseSet Tagged(SparseTable table, string[] tags, Standardizer scaling) =>
        SparseSet.Scaled(table.X, new int[table.Rows], scaling, TagTable.Encode(table.Source, table.Labels, tags));

    /// <summary>A start model must be multi-label and have the data's feature columns.</summary>
    private static void CheckStart(SoftmaxModel? start, IReadOnlyList<string> features, string source)
    {
        if (start is { Kind: ModelKind.Multiclass })
            throw new ArgumentException("--init-model: the model is multiclass (softmax); multi-label training continues only a multi-label model");
        start?.CheckColumns(features, source);
    }

    /// <summary>Standardized X [N, D], the tag targets Y [N, K] and placeholder class indices (unused by the loss).</summary>
    public static EncodedSet Encode(Table table, IReadOnlyList<string> tags, Standardizer standardizer) =>
        new(standardizer.Apply(table.Features), new int[table.Rows], TagTable.Encode(table, tags), table.Rows, table.Dim);

    /// <summary>The training and validation rows of a seeded split stratified by tag set (rows with the same tags split alike).</summary>
    public static (Table Train, Table Validation) Split(Table table, double fraction, int seed)
    {
        (int[] trainRows, int[] valRows) = SplitRows(table.Labels, fraction, seed);
        return (table.Subset(trainRows), table.Subset(valRows));
    }

    /// <summary>The training and validation row indices of rows labelled <paramref name="labels"/> (tag sets), stratified by tag set.</summary>
    public static (int[] Train, int[] Validation) SplitRows(IReadOnlyList<string> labels, double fraction, int seed)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        int[] sets = labels.Select(l => index.TryGetValue(l, out int i) ? i : index[l] = index.Count).ToArray();
        return Data.Split.Stratified(sets, fraction, seed);
    }

    /// <summary>
    /// The rows of <paramref name="data"/> kept sparse where they are LIBSVM tag lists (text, or a sparse .sgd file from
    /// convert --multi-label; D from the model), for <see cref="Predict(SoftmaxModel, SparseTable, bool)"/>; null where
    /// the data is a CSV (<see cref="TagTable.ForModel"/>).
    /// </summary>
    public static SparseTable? SparseRowsFor(SoftmaxModel model, string data, bool labelsNeeded, DataFormat format = DataFormat.Auto)
    {
        if (!DataSource.KindOf(data, format).IsLibSvmRows())
            return null;
        SparseTable rows = DataSource.LoadSparse(data, LibSvmOptions.For(model.FeatureNames, "the model") with { MultiLabel = true },
            labelOptional: !labelsNeeded);
        model.CheckColumns(rows.FeatureNames, rows.Source);
        return rows;
    }

    /// <summary>
    /// Every sparse row's tag probabilities σ(z) [N, K] on the host engine (<see cref="SparsePrediction"/>, never dense);
    /// with <paramref name="withTargets"/> also the rows' 0/1 tags [N, K] and the mean binary cross-entropy against them.
    /// </summary>
    public static (float[] Probabilities, float[]? Targets, double? Loss) Predict(SoftmaxModel model, SparseTable rows, bool withTargets)
    {
        if (!model.Kind.IsMultiLabel())
            throw new ArgumentException("not a multi-label model", nameof(model));
        int k = model.K;
        float[]? targets = withTargets ? TagTable.Encode(rows.Source, rows.Labels, model.Classes) : null;
        var probabilities = new float[(long)rows.Rows * k];
        double? loss = SparsePrediction.Predict(model, rows.X, new int[rows.Rows], withTargets,
            block => block.Probabilities.AsSpan(0, block.Rows * k).CopyTo(probabilities.AsSpan((int)(block.Start * k))), targets);
        return (probabilities, targets, loss);
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
