using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Model;

namespace SoftmaxGpu.Training;

/// <summary>
/// From tables to a model and back: encode classes, standardize with the training statistics, train on the
/// device, and predict on the device with a saved model.
/// </summary>
public static class Pipeline
{
    /// <param name="start">A saved model to continue from (warm start): its classes, standardization and θ are
    /// kept, and the data must have its feature columns; null trains from zeros with the data's own statistics.</param>
    /// <remarks>With --weight-column or --target-columns the tables hold those columns (<see cref="Weighting.Load"/>):
    /// they are taken out here, and the rest are the features.</remarks>
    public static (SoftmaxModel Model, TrainResult Result) Train(Gpu gpu, Table train, Table? validation,
        TrainOptions options, Action<EpochReport>? onEpoch = null, SoftmaxModel? start = null)
    {
        (train, float[]? targets, float[]? sampleWeights) = Weighting.TakeColumns(train, options, weightsNeeded: true);
        validation = validation is null ? null : Weighting.TakeColumns(validation, options, weightsNeeded: false).Table;
        start?.CheckColumns(train.FeatureNames, train.Source);
        if (start is not null && options.TargetColumns is not null && !start.Classes.SequenceEqual(options.TargetColumns))
            throw new ArgumentException($"--target-columns ({string.Join(",", options.TargetColumns)}) must be the classes of " +
                                        $"--init-model, in its order ({string.Join(",", start.Classes)})");
        string[] classes = start?.Classes ?? options.TargetColumns ?? train.DistinctClasses();
        if (classes.Length < 2)
            throw Table.OneClass(train.Source, train.LabelName, classes.FirstOrDefault());
        if (validation is not null)
            CheckValidationColumns(validation.Source, validation.FeatureNames, train.FeatureNames);

        // Sparse data (LIBSVM) trains centred too, and the centre is folded into the bias afterwards (ScaleOnly).
        Standardizer standardizer = start?.Standardizer ?? Standardizer.Fit(train.Features, train.Rows, train.Dim, options.Scale);
        (EncodedSet trainSet, options) = TrainingRows(train, targets, sampleWeights, classes, standardizer, options);
        EncodedSet? validationSet = validation is null ? null : Encode(validation, classes, standardizer);

        TrainResult result = Trainer.Train(gpu, trainSet, validationSet, classes.Length, From(start, options), onEpoch);
        SoftmaxModel model = ModelOf(train.LabelName, classes, train.FeatureNames, standardizer, result.Theta);
        return (train.Sparse && start is null ? ScaleOnly(model) : model, result);
    }

    /// <summary>
    /// The training rows as the device fits them: encoded and standardized, with their probability targets, smoothed
    /// (<see cref="Smoothed"/>) and weighted (<see cref="Weighting.Apply"/>, the options then carrying Σw).
    /// </summary>
    private static (EncodedSet Set, TrainOptions Options) TrainingRows(Table train, float[]? targets, float[]? sampleWeights,
        string[] classes, Standardizer standardizer, TrainOptions options) =>
        Weighting.Apply(Smoothed(Encode(train, classes, standardizer) with { Targets = targets }, classes.Length, options.LabelSmoothing),
            classes, options, sampleWeights);

    /// <summary>
    /// Trains on rows kept sparse (<see cref="SparseTraining"/>: L-BFGS on the host engine, or on
    /// <paramref name="gpu"/>'s sparse kernels with the rows resident). The scaling is fitted
    /// on the non-zeros (<see cref="SparseTable.Statistics"/>); with --scale std the model is centred as dense data's is,
    /// implicitly (<see cref="SparseObjective{THead}"/>), and the centre folded into the bias at the end
    /// (<see cref="ScaleOnly"/>): the same optimum, the same kind of model file.
    /// </summary>
    /// <param name="statistics">The scaling of <c>options.Scale</c> where already known (a sparse .sgd file's footer,
    /// <see cref="SparseSgdReader.Statistics"/>); null fits it on the rows.</param>
    public static (SoftmaxModel Model, TrainResult Result) TrainSparse(Gpu gpu, SparseTable train, SparseTable? validation,
        TrainOptions options, Action<EpochReport>? onEpoch = null, SoftmaxModel? start = null, Standardizer? statistics = null)
    {
        start?.CheckColumns(train.FeatureNames, train.Source);
        string[] classes = start?.Classes ?? train.DistinctClasses();
        if (classes.Length < 2)
            throw Table.OneClass(train.Source, train.LabelName, classes.FirstOrDefault());
        Standardizer scaling = SparseScaling(train, validation, options, start, statistics);
        SparseSet rows = WithTargets(SparseSet.Scaled(train.X, train.Encode(classes), scaling), classes, ref options);
        SparseSet? held = validation is null ? null : SparseSet.Scaled(validation.X, validation.Encode(classes), scaling);
        return FitSparse(gpu, train, rows, held, classes, scaling, options, onEpoch, start, ModelKind.Multiclass);
    }

    /// <summary>
    /// The scaling sparse rows train under: the start model's, else <paramref name="statistics"/> (a sparse .sgd file's
    /// footer), else <c>options.Scale</c> fitted on the rows; the validation rows must have the training rows' D.
    /// </summary>
    internal static Standardizer SparseScaling(SparseTable train, SparseTable? validation, TrainOptions options, SoftmaxModel? start,
        Standardizer? statistics)
    {
        if (validation is not null && validation.Dim != train.Dim)
            throw new DataFormatException($"{validation.Source}: {validation.Dim} features; the training data has {train.Dim}");
        return start?.Standardizer ?? statistics ?? train.Statistics(options.Scale);
    }

    /// <summary>
    /// Sparse rows, scaled and with their labels or target rows (<see cref="SparseSet"/>), to a model of
    /// <paramref name="kind"/> over <paramref name="classes"/> (classes or tags): L-BFGS on the head of <c>options.Loss</c>
    /// (<see cref="SparseTraining"/>), centred implicitly where the scaling has a mean, and the centre folded into the bias
    /// at the end (<see cref="ScaleOnly"/>) unless a start model is continued.
    /// </summary>
    internal static (SoftmaxModel Model, TrainResult Result) FitSparse(Gpu gpu, SparseTable train, SparseSet rows, SparseSet? held,
        string[] classes, Standardizer scaling, TrainOptions options, Action<EpochReport>? onEpoch, SoftmaxModel? start, ModelKind kind)
    {
        TrainResult result = SparseTraining.Train(gpu, rows, held, classes.Length, Centre(scaling), From(start, options), onEpoch);
        SoftmaxModel model = ModelOf(train.LabelName, classes, train.FeatureNames, scaling, result.Theta, kind);
        return (start is null ? ScaleOnly(model) : model, result);
    }

    /// <summary>μ/σ: the scaled columns' means sparse rows are centred on implicitly, or null where the scaling has no mean.</summary>
    internal static double[]? Centre(Standardizer scaling) =>
        scaling.Mean.Any(m => m != 0) ? [.. scaling.Mean.Select((m, j) => m / scaling.Std[j])] : null;

    /// <summary>
    /// Chooses C among <paramref name="cs"/> on sparse rows (<see cref="SparseCrossValidation"/>): by
    /// <paramref name="folds"/>-fold cross-validation, or on <paramref name="validation"/> where given; returns the model
    /// fitted on the training rows at the chosen C. The scaling is fitted once on the training rows (or is
    /// <paramref name="statistics"/>, a sparse .sgd file's footer), the folds share it and its centre, as the dense
    /// path's folds share one standardization (<see cref="TrainPath(Gpu, Table, Table?, TrainOptions,
    /// IReadOnlyCollection{double}, int?, PathScore, Action{EpochReport}?)"/>); the centre is folded into the bias at the end.
    /// Class weights and smoothing go into target rows as for a single fit (<see cref="TrainSparse"/>); each fold reweights
    /// its rows as a single fit on them would (<see cref="FoldRows"/>).
    /// </summary>
    public static (SoftmaxModel Model, PathResult Path) TrainSparsePath(Gpu gpu, SparseTable train, SparseTable? validation,
        TrainOptions options, IReadOnlyCollection<double> cs, int? folds, PathScore score, Action<EpochReport>? onEpoch = null,
        Standardizer? statistics = null)
    {
        string[] classes = train.DistinctClasses();
        if (classes.Length < 2)
            throw Table.OneClass(train.Source, train.LabelName, classes.FirstOrDefault());
        Standardizer scaling = SparseScaling(train, validation, options, start: null, statistics);
        SparseSet rows = WithTargets(SparseSet.Scaled(train.X, train.Encode(classes), scaling), classes, ref options);
        double[]? centre = Centre(scaling);
        if (validation is null)
            Split.RequireFolds(rows.Labels, folds!.Value, classes); // the error names the class
        PathResult path = validation is null
            ? SparseCrossValidation.Run(gpu, rows, classes.Length, centre, cs, folds!.Value, score, options, onEpoch)
            : SparseCrossValidation.RunOnValidation(gpu, rows, SparseSet.Scaled(validation.X, validation.Encode(classes), scaling),
                classes.Length, centre, cs, score, options, onEpoch);
        SoftmaxModel model = ModelOf(train.LabelName, classes, train.FeatureNames, scaling, path.Refit.Theta);
        return (ScaleOnly(model).WithSelection(path.Selection(folds ?? 0)), path);
    }

    /// <summary>
    /// The rows with target rows where label smoothing or class weights are asked for: each row gets its class's row
    /// of the same [K, K] table streamed .sgd rows get (<see cref="Weighting.TargetTable"/>), and the options Σw.
    /// </summary>
    private static SparseSet WithTargets(SparseSet rows, string[] classes, ref TrainOptions options)
    {
        if (options.LabelSmoothing <= 0 && options.ClassWeight is null)
            return rows;
        int k = classes.Length;
        var counts = new long[k];
        foreach (int label in rows.Labels)
            counts[label]++;
        (float[] table, options) = Weighting.TargetTable(classes, options, counts, rows.Rows);
        var targets = new float[(long)rows.Rows * k];
        for (int r = 0; r < rows.Rows; r++)
            table.AsSpan(rows.Labels[r] * k, k).CopyTo(targets.AsSpan((int)((long)r * k)));
        return new SparseSet(rows.X, rows.Labels) { Targets = targets };
    }

    /// <summary>
    /// Chooses C among <paramref name="cs"/> by <paramref name="folds"/>-fold cross-validation on the table's rows, or
    /// on <paramref name="validation"/> where given (<see cref="CrossValidation"/>), and returns the model fitted on
    /// the training rows at the chosen C. The standardization is fitted once on the training rows (the folds share
    /// it), as the model keeps it. Weights, probability targets (--target-columns) and smoothing are those of a single
    /// fit (<see cref="Train(Gpu, Table, Table?, TrainOptions, Action{EpochReport}?, SoftmaxModel?)"/>); each fold
    /// reweights its rows as a single fit on them would (<see cref="FoldRows"/>).
    /// </summary>
    /// <remarks>The tables keep their weight and target columns (<see cref="Weighting.Load"/>), taken out here.</remarks>
    public static (SoftmaxModel Model, PathResult Path) TrainPath(Gpu gpu, Table train, Table? validation, TrainOptions options,
        IReadOnlyCollection<double> cs, int? folds, PathScore score, Action<EpochReport>? onEpoch = null)
    {
        if (folds is null && validation is null)
            throw new ArgumentException("choosing among values scores them on held-out rows: give folds (--cv K) or a validation table (--val)");
        (train, float[]? targets, float[]? sampleWeights) = Weighting.TakeColumns(train, options, weightsNeeded: true);
        validation = validation is null ? null : Weighting.TakeColumns(validation, options, weightsNeeded: false).Table;
        string[] classes = options.TargetColumns ?? train.DistinctClasses();
        if (classes.Length < 2)
            throw Table.OneClass(train.Source, train.LabelName, classes.FirstOrDefault());
        if (validation is not null)
            CheckValidationColumns(validation.Source, validation.FeatureNames, train.FeatureNames);
        Standardizer standardizer = Standardizer.Fit(train.Features, train.Rows, train.Dim, options.Scale);
        (EncodedSet rows, options) = TrainingRows(train, targets, sampleWeights, classes, standardizer, options);
        if (validation is null)
            Split.RequireFolds(rows.Labels, folds!.Value, classes); // the error names the class
        PathResult path = validation is null
            ? CrossValidation.Run(gpu, rows, classes.Length, cs, folds!.Value, score, options, onEpoch)
            : CrossValidation.RunOnValidation(gpu, rows, Encode(validation, classes, standardizer), classes.Length, cs, score, options, onEpoch);
        SoftmaxModel model = ModelOf(train.LabelName, classes, train.FeatureNames, standardizer, path.Refit.Theta);
        return ((train.Sparse ? ScaleOnly(model) : model).WithSelection(path.Selection(folds ?? 0)), path);
    }

    /// <summary>
    /// The same classifier with its standardization's centre folded into the bias: W·(x − μ)/σ + b = W·(x/σ) + b′ with
    /// b′ = b − W·(μ/σ), so the model's mean is 0 and it scales sparse rows without centring them (centring would
    /// fill every zero). Training itself runs centred: on uncentred columns L-BFGS crawled (digits as LIBSVM: 590
    /// iterations against 86); the bias is unpenalized, so the optimum is the same one.
    /// </summary>
    public static SoftmaxModel ScaleOnly(SoftmaxModel model)
    {
        int k = model.K, d = model.D;
        double[] mean = model.Standardizer.Mean, std = model.Standardizer.Std;
        var bias = new float[k];
        for (int c = 0; c < k; c++)
        {
            double shift = 0;
            for (int j = 0; j < d; j++)
                shift += model.Weights[c * d + j] * (mean[j] / std[j]);
            bias[c] = (float)(model.Bias[c] - shift);
        }
        return new SoftmaxModel(model.LabelName, model.Classes, model.FeatureNames, new Standardizer(new double[d], std),
            model.Weights, bias, model.Kind);
    }

    /// <summary>
    /// Trains on a .sgd dataset file without loading it: classes, feature names and standardization come from its
    /// footer, and its rows stream from disk in blocks (resident on the device where they fit, streamed through it
    /// where they do not), with the targets it keeps (<see cref="SgdReader.Targets"/>) made as training from the CSV
    /// makes them: labels (smoothed and class-weighted from the class, <see cref="Weighting.ByLabel"/>), probability rows
    /// and weights (<see cref="FileTargets"/>), or multi-label tag sets (the sigmoid head). The validation set, where
    /// given, is a table or another .sgd file.
    /// </summary>
    /// <param name="options">The options, whose --target-columns and --weight-column must be the file's or none
    /// (<see cref="SgdTargetOptions"/>).</param>
    public static (SoftmaxModel Model, TrainResult Result) Train(Gpu gpu, SgdReader train, Table? validationTable,
        SgdReader? validationFile, TrainOptions options, Action<EpochReport>? onEpoch = null, SoftmaxModel? start = null)
    {
        FileRows file = Open(train, validationTable, validationFile, options, start);
        TrainResult result = Trainer.Train(gpu, file.Rows, file.Validation, file.Classes.Length, From(start, file.Options), onEpoch);
        return (ModelOf(train.LabelName, file.Classes, train.FeatureNames, file.Standardizer, result.Theta, train.Targets.ModelKind), result);
    }

    /// <summary>
    /// Chooses C among <paramref name="cs"/> on a .sgd file without loading it: by <paramref name="folds"/>-fold
    /// cross-validation over rows read in blocks (<see cref="CrossValidation.Run(Gpu, IRowSource, IRowSource, int[], int,
    /// IReadOnlyCollection{double}, int, PathScore, TrainOptions, Action{EpochReport}?)"/>), or on the validation rows where
    /// given. The rows, their targets (weights, smoothing) and the standardization are a single fit's on the file
    /// (<see cref="Train(Gpu, SgdReader, Table?, SgdReader?, TrainOptions, Action{EpochReport}?, SoftmaxModel?)"/>), and the
    /// folds are dealt from the file's labels as from the same rows in memory, so the path is the one <see cref="TrainPath(Gpu,
    /// Table, Table?, TrainOptions, IReadOnlyCollection{double}, int?, PathScore, Action{EpochReport}?)"/> takes on the CSV the
    /// file was converted from. A file of tag sets (multi-label) deals its rows to seeded folds by row, as in memory, and
    /// scores each held-out fold by its tags.
    /// </summary>
    public static (SoftmaxModel Model, PathResult Path) TrainPath(Gpu gpu, SgdReader train, Table? validationTable,
        SgdReader? validationFile, TrainOptions options, IReadOnlyCollection<double> cs, int? folds, PathScore score,
        Action<EpochReport>? onEpoch = null)
    {
        FileRows file = Open(train, validationTable, validationFile, options, start: null);
        int k = file.Classes.Length;
        // Held-out rows are scored by their class alone (FoldRows), so the folds read the file's rows without targets too;
        // tag sets by their tags, the rows as they are fitted. Tag sets are dealt by row: only their count matters.
        SgdRowSource? byClass = train.Targets.IsMultiLabel ? null : new SgdRowSource(train, file.Standardizer, file.Classes);
        IRowSource scored = byClass ?? file.Rows;
        int[]? labels = file.Validation is not null ? null : byClass?.Labels() ?? new int[train.Rows];
        if (labels is not null && byClass is not null)
            Split.RequireFolds(labels, folds!.Value, file.Classes); // the error names the class
        PathResult path = file.Validation is IRowSource held
            ? CrossValidation.RunOnValidation(gpu, file.Rows, held, k, cs, score, file.Options, onEpoch)
            : CrossValidation.Run(gpu, file.Rows, scored, labels!, k, cs, folds!.Value, score, file.Options, onEpoch);
        SoftmaxModel model = ModelOf(train.LabelName, file.Classes, train.FeatureNames, file.Standardizer, path.Refit.Theta,
            train.Targets.ModelKind);
        return (model.WithSelection(path.Selection(folds ?? 0)), path);
    }

    /// <summary>A .sgd file as training reads it: the classes, the standardization, the rows with their targets, the validation rows, and the options (with the file's target columns and weights, and Σw).</summary>
    private sealed record FileRows(string[] Classes, Standardizer Standardizer, IRowSource Rows, IRowSource? Validation, TrainOptions Options);

    /// <summary>
    /// The file's rows streamed from disk with the targets it keeps (<see cref="SgdReader.Targets"/>) made as training from
    /// the CSV makes them: labels (smoothed and class-weighted from the class, <see cref="Weighting.ByLabel"/>), probability
    /// rows and weights (<see cref="FileTargets"/>), or multi-label tag sets (the sigmoid head); classes, feature names and
    /// standardization from its footer, or from <paramref name="start"/>.
    /// </summary>
    private static FileRows Open(SgdReader train, Table? validationTable, SgdReader? validationFile, TrainOptions options,
        SoftmaxModel? start)
    {
        RowTargets targets = train.Targets;
        options = SgdTargetOptions.For(train, null, targets.IsMultiLabel, options);
        start?.CheckColumns(train.FeatureNames, train.Path);
        if (start is not null && targets.Width > 0 && !start.Classes.SequenceEqual(train.ClassNames))
            throw new ArgumentException($"--init-model: the model's classes ({string.Join(",", start.Classes)}) must be the target " +
                                        $"columns of {train.Path}, in its order ({string.Join(",", train.ClassNames)})");
        string[] classes = start?.Classes ?? train.ClassNames;
        if (classes.Length < 2 && !targets.IsMultiLabel)
            throw Table.OneClass(train.Path, train.LabelName, classes.FirstOrDefault());
        string[]? validationFeatures = validationTable?.FeatureNames ?? validationFile?.FeatureNames;
        if (validationFeatures is not null)
            CheckValidationColumns(validationTable?.Source ?? validationFile!.Path, validationFeatures, train.FeatureNames);

        Standardizer standardizer = start?.Standardizer ?? train.Standardizer();
        IRowSource? validation = ValidationRows(validationTable, validationFile, targets, classes, standardizer, options);
        (IRowSource rows, options) = targets.IsMultiLabel
            ? (new SgdRowSource(train, standardizer, classes, targets: FileTargets.AsStored(train)), options with { Loss = SigmoidCrossEntropy.Instance })
            : targets.LabelsOnly
            // Label smoothing and class weights stream: targets from the label, per block (Weighting.ByLabel).
            ? Weighting.ByLabel(new SgdRowSource(train, standardizer, classes), classes, options)
            : RowsWithTargets(train, standardizer, classes, options);
        return new FileRows(classes, standardizer, rows, validation, options);
    }

    /// <summary>A file's probability rows or weighted rows with their targets made as in memory (<see cref="FileTargets.Weighted"/>).</summary>
    private static (IRowSource Rows, TrainOptions Options) RowsWithTargets(SgdReader train, Standardizer standardizer, string[] classes,
        TrainOptions options)
    {
        (FileTargets targets, options) = FileTargets.Weighted(train, classes, options);
        return (new SgdRowSource(train, standardizer, classes, targets: targets), options);
    }

    /// <summary>
    /// The validation rows of training from a .sgd file: a table (its weight and target columns taken out; multi-label:
    /// its tags) or another .sgd file (multi-label: its tag sets, which must be the training file's tags in order).
    /// </summary>
    private static IRowSource? ValidationRows(Table? table, SgdReader? file, RowTargets targets, string[] classes,
        Standardizer standardizer, TrainOptions options)
    {
        if (table is not null)
            return targets.IsMultiLabel ? TagPipeline.Encode(table, classes, standardizer)
                : Encode(Weighting.TakeColumns(table, options, weightsNeeded: false).Table, classes, standardizer);
        if (file is null)
            return null;
        if (!targets.IsMultiLabel)
            return new SgdRowSource(file, standardizer, classes);
        if (!file.Targets.IsMultiLabel || !file.ClassNames.SequenceEqual(classes))
            throw new DataFormatException($"{file.Path}: validation tag sets must be a multi-label .sgd file of the training tags, " +
                                          $"in order ({string.Join(",", classes)}); it holds {file.Targets.Describe()}");
        return new SgdRowSource(file, standardizer, classes, targets: FileTargets.AsStored(file));
    }

    /// <summary>The model of a trained θ = [W | b] (<see cref="ParameterLayout.Linear"/>).</summary>
    internal static SoftmaxModel ModelOf(string labelName, string[] classes, string[] featureNames, Standardizer standardizer,
        float[] theta, ModelKind kind = ModelKind.Multiclass)
    {
        ParameterLayout layout = ParameterLayout.Linear(classes.Length, featureNames.Length);
        return new SoftmaxModel(labelName, classes, featureNames, standardizer,
            layout.Slice(theta, ParameterLayout.Weights), layout.Slice(theta, ParameterLayout.Bias), kind);
    }

    /// <summary>
    /// The set with soft targets (1 − ε)·onehot(y) + ε/K for label smoothing ε (PyTorch's CrossEntropyLoss), or
    /// (1 − ε)·y + ε/K where the set has probability targets y; unchanged for ε = 0. The labels stay: the true class
    /// is still the largest target.
    /// </summary>
    public static EncodedSet Smoothed(EncodedSet set, int k, float epsilon)
    {
        if (epsilon <= 0)
            return set;
        if (set.Targets is float[] soft)
            return set with { Targets = soft.Select(y => (1 - epsilon) * y + epsilon / k).ToArray() };
        var targets = new float[(long)set.Rows * k];
        targets.AsSpan().Fill(epsilon / k);
        for (int r = 0; r < set.Rows; r++)
            targets[(long)r * k + set.Labels[r]] += 1 - epsilon;
        return set with { Targets = targets };
    }

    /// <summary>The options with the start model's θ = [W | b] as the initial point, where there is one.</summary>
    internal static TrainOptions From(SoftmaxModel? start, TrainOptions options) =>
        start is null ? options : options with { InitialTheta = [.. start.Weights, .. start.Bias] };

    /// <summary>A validation set must have the training data's feature columns, in order.</summary>
    internal static void CheckValidationColumns(string source, IReadOnlyList<string> validationFeatures, string[] trainFeatures)
    {
        if (!validationFeatures.SequenceEqual(trainFeatures, StringComparer.Ordinal))
            throw new DataFormatException(
                $"{source}: feature columns differ from the training data's ({string.Join(", ", trainFeatures)})");
    }

    public static EncodedSet Encode(Table table, IReadOnlyList<string> classes, Standardizer standardizer) =>
        new(standardizer.Apply(table.Features), table.Encode(classes), null, table.Rows, table.Dim);

    /// <summary>Runs the model over every row of <paramref name="table"/> on the device, in blocks.</summary>
    /// <param name="withLabels">Also compute the mean loss against the table's labels.</param>
    public static Prediction Predict(Gpu gpu, SoftmaxModel model, Table table, bool withLabels)
    {
        model.CheckColumns(table.FeatureNames, table.Source);
        int n = table.Rows;
        int k = model.K;
        var set = new EncodedSet(model.Standardizer.Apply(table.Features),
            withLabels ? table.Encode(model.Classes) : new int[n], null, n, table.Dim);
        var probabilities = new float[(long)n * k];
        var predicted = new int[n];
        double? loss = Predict(gpu, model, set, withLabels, block =>
        {
            block.Predicted.AsSpan(0, block.Rows).CopyTo(predicted.AsSpan((int)block.Start));
            block.Probabilities.AsSpan(0, block.Rows * k).CopyTo(probabilities.AsSpan((int)(block.Start * k)));
        });
        return new Prediction(probabilities, predicted, loss);
    }

    /// <summary>The loss (head) a saved model was trained with: its kind says (<see cref="ModelKind"/>).</summary>
    public static ILoss LossOf(SoftmaxModel model) =>
        model.Kind.IsMultiLabel() ? SigmoidCrossEntropy.Instance : SoftmaxCrossEntropy.Instance;

    /// <summary>
    /// The one predictor of every head: runs the model over every row of <paramref name="source"/>, a block at a
    /// time — each block is read, sent to the device, evaluated, and handed to <paramref name="onBlock"/> before the
    /// next is read, so host memory holds one block whatever the row count. Returns the mean loss against the
    /// source's targets where <paramref name="withLabels"/> (its target rows where it has them, as multi-label tag
    /// sets; else its labels, class indices of the model), else null.
    /// </summary>
    public static double? Predict(Gpu gpu, SoftmaxModel model, IRowSource source, bool withLabels, Action<PredictedBlock> onBlock)
    {
        ArgumentNullException.ThrowIfNull(gpu);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(onBlock);
        if (withLabels && !source.HasLabels)
            throw new ArgumentException("withLabels: the rows were read without their labels; read them with " +
                                        "Pipeline.RowsFor(model, data, labelsNeeded: true) to score them", nameof(withLabels));
        if (source.Dim != model.D)
            throw new ArgumentException($"the rows have {source.Dim} features, the model {model.D}", nameof(source));
        // Sparse rows (LIBSVM) go through the host engine's sparse pass, never dense (the device is not used).
        if (source is SparseRowSource sparse && source.TargetWidth == 0)
            return SparsePrediction.Predict(model, sparse.X, sparse.Labels, withLabels, onBlock);
        int k = model.K, d = model.D, width = source.TargetWidth;
        int capacity = (int)Math.Clamp(source.Rows, 1, Math.Min(GradientEngine.BlockRows, GradientEngine.BlockFloats / Math.Max(d, k)));
        using var engine = new GradientEngine(gpu, LossOf(model), d, k, batchRows: 1, softTargets: width > 0, evaluationRows: capacity);
        engine.Weights.CopyFromCPU(model.Weights);
        engine.Bias.CopyFromCPU(model.Bias);
        using var part = new DeviceSet(gpu.Accelerator, capacity, d, width);
        using var predictedBuffer = gpu.Accelerator.Allocate1D<int>(capacity);
        ArrayView<int> predicted = predictedBuffer.View;
        var block = new PredictedBlock(0, 0, new int[capacity], new int[capacity], new float[(long)capacity * k]);
        var features = new float[(long)capacity * d];
        var targets = new float[(long)capacity * width];
        engine.ResetTotals();
        for (long start = 0; start < source.Rows; start += capacity)
        {
            int rows = (int)Math.Min(capacity, source.Rows - start);
            source.Read(start, rows, new RowBlock(features, block.Labels, targets).Take(rows, d, width));
            part.Features.SubView(0, (long)rows * d).CopyFromCPU(features.AsSpan(0, rows * d));
            part.Labels.SubView(0, rows).CopyFromCPU(block.Labels.AsSpan(0, rows));
            if (width > 0)
                part.Targets.SubView(0, (long)rows * width).CopyFromCPU(targets.AsSpan(0, rows * width));
            engine.ForEachBlock(part.Features, rows, withLabels && width == 0 ? part.Labels.SubView(0, rows) : default,
                withLabels && width > 0 ? part.Targets.SubView(0, (long)rows * width) : default, 1f / source.Rows,
                (_, count, logits, outputs) =>
                {
                    engine.Argmax(logits, count, predicted.SubView(0, count));
                    outputs.CopyToCPU(block.Probabilities.AsSpan(0, count * k));
                    predicted.SubView(0, count).CopyToCPU(block.Predicted.AsSpan(0, count));
                });
            onBlock((block with { Start = start, Rows = rows }).Finite(k));
        }
        return withLabels ? engine.ReadTotals().Loss : null;
    }

    /// <summary>
    /// The rows to predict, standardized as the model was trained: a dense .sgd file read in blocks (and the reader
    /// to dispose), or a table in memory. A LIBSVM file or a sparse .sgd file is read kept sparse into the model's D features, 0- or 1-based as the
    /// model's feature names say. A CSV file's feature columns are the model's, found by name in any order; its
    /// other columns are left unread (<see cref="CsvOptions.Features"/>).
    /// </summary>
    public static (IRowSource Source, IDisposable? File) RowsFor(SoftmaxModel model, string data, bool labelsNeeded = false,
        string? label = null, DataFormat format = DataFormat.Auto, CsvOptions? csv = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        DataKind kind = DataSource.KindOf(data, format);
        if (kind == DataKind.Sgd)
        {
            SgdReader reader = DataSource.OpenSgd(data, label);
            model.CheckColumns(reader.FeatureNames, data);
            return (new SgdRowSource(reader, model.Standardizer, model.Classes, labelsNeeded), reader);
        }
        if (labelsNeeded && model.Kind.IsMultiLabel())
            throw new ArgumentException("a multi-label model's rows are scored by their tags, not a class: read and score them with " +
                                        "TagPipeline.Predict (as softmaxgpu evaluate does)");
        if (labelsNeeded && label is null && model.LabelName.Length == 0)
            throw new ArgumentException($"the model was trained on probability columns (--target-columns), so it has no label " +
                                        $"column of its own: give --label, a column of the class names ({string.Join(", ", model.Classes)})");
        if (kind.IsLibSvmRows())
        {
            // Kept sparse in memory (8 bytes a non-zero) and made dense a block at a time as the predictor reads it.
            SparseTable rows = DataSource.LoadSparse(data, LibSvmOptions.For(model.FeatureNames, "the model"), labelOptional: !labelsNeeded);
            model.CheckColumns(rows.FeatureNames, rows.Source);
            return (new SparseRowSource(rows.X, labelsNeeded ? rows.Encode(model.Classes) : new int[rows.Rows], model.Standardizer, labelsNeeded), null);
        }
        Table table = DataSource.Load(data, label ?? model.LabelName, testSplit: true, labelOptional: !labelsNeeded, format,
            LibSvmOptions.For(model.FeatureNames, "the model"), (csv ?? CsvOptions.Default) with { Features = model.FeatureNames });
        model.CheckColumns(table.FeatureNames, table.Source);
        int[] labels = labelsNeeded ? table.Encode(model.Classes) : new int[table.Rows];
        return (new EncodedSet(model.Standardizer.Apply(table.Features), labels, null, table.Rows, table.Dim) { HasLabels = labelsNeeded }, null);
    }
}
