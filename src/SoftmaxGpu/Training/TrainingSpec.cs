using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Model;

namespace SoftmaxGpu.Training;

/// <summary>
/// Everything about a training run that is not an optimizer setting: where the rows come from and how they are
/// read (format, CSV and LIBSVM options, label, multi-label), the validation rows (a file or a held-out fraction),
/// and the model to continue from. <see cref="Prepare"/> reads the data as its format wants — a table in host
/// memory, or a .sgd file left on disk to stream — so that the command line, a library user and a future search
/// over C all start training the same way.
/// </summary>
public sealed record TrainingSpec
{
    /// <summary>Files larger than this, read as a table, get a note that `convert` makes a file that streams.</summary>
    public const long LargeTableBytes = 256L << 20;

    /// <summary>Training data: CSV, LIBSVM, .sgd, or an MNIST folder.</summary>
    public required string Data { get; init; }
    /// <summary>The label column (CSV), or with <see cref="MultiLabel"/> the tags column or 0/1 tag columns; null: the default.</summary>
    public string? Label { get; init; }
    /// <summary>A validation file, or null.</summary>
    public string? Validation { get; init; }
    /// <summary>A fraction of the training rows held out for validation (seeded, stratified), or null.</summary>
    public double? ValidationFraction { get; init; }
    public DataFormat Format { get; init; } = DataFormat.Auto;
    public LibSvmOptions LibSvm { get; init; } = new();
    public CsvOptions Csv { get; init; } = new();
    /// <summary>Several tags per row: sigmoid heads (<see cref="SigmoidCrossEntropy"/>) instead of one softmax.</summary>
    public bool MultiLabel { get; init; }
    /// <summary>A model to continue from (warm start), or null.</summary>
    public SoftmaxModel? Start { get; init; }
    public TrainOptions Options { get; init; } = new();
    /// <summary>Several values of C (of weight decay, where <see cref="TrainOptions.PathPenalty"/> says so) to choose among by
    /// <see cref="Folds"/>-fold cross-validation; null or one value: a single fit at <see cref="TrainOptions.C"/> (<see cref="TrainOptions.WeightDecay"/>).</summary>
    public IReadOnlyList<double>? Cs { get; init; }
    /// <summary>K of K-fold cross-validation over <see cref="Cs"/>.</summary>
    public int? Folds { get; init; }
    /// <summary>What the folds score C by (accuracy by default, as scikit-learn's LogisticRegressionCV).</summary>
    public PathScore Score { get; init; } = PathScore.Accuracy;

    /// <summary>LIBSVM rows kept sparse (CSR) or made dense (--sparse); auto decides by density and memory (<see cref="SparseChoice"/>).</summary>
    public SparseMode Sparse { get; init; } = SparseMode.Auto;

    /// <summary>Whether this run chooses C by cross-validation.</summary>
    public bool IsPath => Cs is { Count: > 1 } || Folds is not null;

    /// <summary>The values a path runs over: <see cref="Cs"/>, or the one C (weight decay) of the options.</summary>
    private IReadOnlyList<double> Grid => Cs ?? (Options.PathPenalty == PathPenalty.C || Options.WeightDecay is null
        ? [Options.C ?? TrainOptions.DefaultC]
        : [Options.WeightDecay.Value]);

    /// <summary>What a row carries as train reads it: a label, probability targets, tags, and a weight (<see cref="RowTargets.For"/>).</summary>
    public RowTargets Targets => RowTargets.For(Label, MultiLabel, Options.TargetColumns, Options.WeightColumn);

    /// <summary>
    /// Converts <see cref="Data"/> to a .sgd file that keeps what training would read from it — the features and the
    /// label, or target rows (probabilities, tags) and weights (<see cref="Targets"/>) — after the same checks: the
    /// capability table and the options; the rows are read and checked as train reads them (<see cref="CsvTargetRows"/>).
    /// </summary>
    /// <param name="testSplit">For an MNIST folder: its t10k files.</param>
    /// <param name="blockRows">R; 0: automatic.</param>
    /// <param name="sparse">LIBSVM rows kept sparse (null: yes) or made dense.</param>
    public SgdConversion Convert(string output, bool testSplit = false, int blockRows = 0, bool? sparse = null)
    {
        Capabilities.Check(this);
        Options.Validate();
        Csv.CheckIgnore(Data);
        // LIBSVM rows carry their tag lists in the label token (LibSvmOptions.MultiLabel); a CSV its tags in target columns.
        bool tagLists = MultiLabel && DataSource.KindOf(Data, Format) == DataKind.LibSvm;
        return SgdConverter.Convert(Data, Label, testSplit, output, blockRows, Format, tagLists ? LibSvm with { MultiLabel = true } : LibSvm,
            Csv, sparse, targets: tagLists ? null : Targets);
    }

    /// <summary>Reads (or opens) the data and checks it against the options and the start model; the training is then one call.</summary>
    public PreparedTraining Prepare()
    {
        ArgumentNullException.ThrowIfNull(Data);
        ArgumentNullException.ThrowIfNull(Options);
        ArgumentNullException.ThrowIfNull(Csv);
        Capabilities.Check(this);
        Options.Validate(); // before the data is read: a bad option costs nothing
        if (Cs is not null)
            CrossValidation.CheckGrid(Cs, Options.PathPenalty);
        if (Folds is < 2)
            throw new ArgumentException($"--cv must be at least 2 folds, got {Folds}");
        Csv.CheckIgnore(Data); // every --ignore name is a column of the CSV (none given: nothing to check)
        if (ValidationFraction is double fraction && !(fraction is > 0 and < 1))
            throw new ArgumentException($"--val-fraction must be between 0 and 1 (exclusive), got {ValidationFraction}");
        if (Start is not null && Start.Kind.IsMultiLabel() != MultiLabel)
            throw new ArgumentException($"--init-model: the model is a {Start.Kind.FileName()} model; " +
                                        (Start.Kind.IsMultiLabel() ? "add --multi-label" : "multi-label training continues only a multi-label model"));
        return DataSource.KindOf(Data, Format) switch
        {
            DataKind.Sgd => FromFile(),
            DataKind.SparseSgd => FromSparseFile(),
            // Read sparse whatever --sparse says: made dense only once their dense size is known to fit (SparseChoice).
            DataKind.LibSvm => FromSparseRows(SparseTable.Read(Data, LibSvm with { MultiLabel = MultiLabel }), statistics: null),
            _ when MultiLabel => FromTags(),
            _ => IsPath ? FromTableByFolds() : FromTable(),
        };
    }

    /// <summary>A sparse .sgd file (<see cref="SparseSgdReader"/>): its rows read whole, kept sparse, with the footer's statistics.</summary>
    private PreparedTraining FromSparseFile()
    {
        using SparseSgdReader reader = SparseSgdReader.Open(Data);
        DataSource.CheckLabel(Data, reader.LabelName, Label);
        DataSource.CheckTags(Data, reader.LabelName, MultiLabel);
        SparseTable rows = reader.ToSparseTable();
        return FromSparseRows(rows, Start is null ? reader.Statistics(Options.Scale) : null);
    }

    /// <summary>LIBSVM rows in memory, kept sparse or made dense as <see cref="SparseChoice"/> decides (or --sparse off).</summary>
    /// <param name="statistics">The scaling where already known (a sparse .sgd file's footer); null: fitted on the rows.</param>
    private PreparedTraining FromSparseRows(SparseTable rows, Standardizer? statistics)
    {
        if (Sparse == SparseMode.Off)
            return FromDense(SparseChoice.RequireDense(rows, this));
        SparseChoice choice = SparseChoice.For(rows, this);
        if (!choice.Sparse)
            return WithNote(FromDense(rows), choice.Why);
        return FromSparse(rows, choice.Why, statistics);
    }

    /// <summary>LIBSVM rows made dense, to a table's training: multi-label (<see cref="FromTags"/>), by folds, or one fit.</summary>
    private PreparedTraining FromDense(SparseTable rows) =>
        MultiLabel ? FromTags(rows) : IsPath ? FromTableByFolds(Dense(rows)) : FromTable(Dense(rows));

    /// <summary>
    /// Training on LIBSVM rows kept sparse (<see cref="Pipeline.TrainSparse"/>): host memory holds the non-zeros, and a
    /// device other than the host engine a copy of them (<see cref="SparseTraining.Engine"/>).
    /// </summary>
    /// <param name="statistics">The scaling where already known (a sparse .sgd file's footer); null: fitted on the rows.</param>
    private PreparedTraining FromSparse(SparseTable train, string why, Standardizer? statistics)
    {
        SparseTable? validation = Validation is null ? null : ValidationRows(train);
        if (ValidationFraction is double f)
        {
            (int[] trainRows, int[] valRows) = MultiLabel ? TagPipeline.SplitRows(train.Labels, f, Options.Seed)
                : Split.Stratified(train.Encode(train.DistinctClasses()), f, Options.Seed);
            (train, validation) = (train.Subset(trainRows), train.Subset(valRows));
        }
        int k = Start?.K ?? (MultiLabel ? TagTable.DistinctTags(train.Source, train.Labels) : train.DistinctClasses()).Length;
        TrainOptions head = MultiLabel ? Options with { Loss = SigmoidCrossEntropy.Instance } : Options;
        Func<Gpu, string> engine = gpu => SparseTraining.Engine(gpu, train.X, validation?.X, k, head);
        PreparedTraining prepared = IsPath ? SparsePath(train, validation, statistics, engine) : new PreparedTraining((gpu, onEpoch) => MultiLabel
            ? TagPipeline.TrainSparse(gpu, train, validation, Options, onEpoch, Start, statistics)
            : Pipeline.TrainSparse(gpu, train, validation, Options, onEpoch, Start, statistics))
        {
            Engine = engine,
        };
        prepared.Notes.Add($"data: {train.Source}: {train.Rows} rows, {train.Dim} features, {train.X.NonZeros} non-zeros " +
                           $"({train.X.Density:P3}), kept sparse ({ByteSize.Format(train.X.Bytes)} as CSR): {why}" +
                           (MultiLabel ? $"; multi-label, {k} tags" : "") +
                           (IsPath ? $"; {PathNote(validation?.Rows)}" : validation is null ? "" : $"; validation: {validation.Rows} rows"));
        return prepared;
    }

    /// <summary>Choosing C on rows kept sparse (<see cref="Pipeline.TrainSparsePath"/>; tag lists:
    /// <see cref="TagPipeline.TrainSparsePath"/>), then the refit.</summary>
    private PreparedTraining SparsePath(SparseTable train, SparseTable? validation, Standardizer? statistics, Func<Gpu, string> engine) =>
        ByPath((gpu, onEpoch) => MultiLabel
            ? TagPipeline.TrainSparsePath(gpu, train, validation, Options, Grid, Folds, Score, onEpoch, statistics)
            : Pipeline.TrainSparsePath(gpu, train, validation, Options, Grid, Folds, Score, onEpoch, statistics), engine);

    /// <summary>A run that chooses C (<paramref name="path"/>), keeping the path it took for the caller (<see cref="PreparedTraining.Path"/>).</summary>
    /// <param name="files">Files the run reads, closed with it (a .sgd file read in blocks).</param>
    private static PreparedTraining ByPath(Func<Gpu, Action<EpochReport>?, (SoftmaxModel Model, PathResult Path)> path,
        Func<Gpu, string>? engine = null, params IDisposable?[] files)
    {
        PreparedTraining? prepared = null;
        prepared = new PreparedTraining((gpu, onEpoch) =>
        {
            (SoftmaxModel model, PathResult taken) = path(gpu, onEpoch);
            prepared!.Path = taken;
            return (model, taken.Refit);
        }, files)
        {
            Engine = engine,
        };
        return prepared;
    }

    /// <summary>How C (weight decay) is chosen, in words: "C chosen among 3 values by 3-fold cross-validation (accuracy)".</summary>
    private string PathNote(long? validationRows) =>
        $"{Options.PathPenalty.Name()} chosen among {Grid.Count} value{(Grid.Count == 1 ? "" : "s")} by " +
        (validationRows is long held ? $"the {held} validation rows" : $"{Folds}-fold cross-validation") +
        $" ({Score.Name(MultiLabel)})";

    /// <summary>The --val rows read kept sparse into the training rows' D (LIBSVM text or a sparse .sgd file; tag lists with --multi-label).</summary>
    private SparseTable ValidationRows(SparseTable train) => DataSource.LoadSparse(Validation!,
        new LibSvmOptions { ZeroBased = LibSvm.ZeroBased, Features = train.Dim, FeaturesFrom = "the training data", MultiLabel = MultiLabel });

    /// <summary>The rows made dense, as the LIBSVM table reader makes them.</summary>
    private static Table Dense(SparseTable rows)
    {
        var features = new float[checked((long)rows.Rows * rows.Dim)];
        rows.X.Densify(0, rows.Rows, features);
        return new Table(rows.Source, rows.FeatureNames, rows.LabelName, features, rows.Labels) { Sparse = true };
    }

    private static PreparedTraining WithNote(PreparedTraining prepared, string note)
    {
        prepared.Notes.Insert(1, $"note: {note}");
        return prepared;
    }

    /// <summary>Training from a table in host memory (CSV, LIBSVM, IDX).</summary>
    /// <param name="read">The training rows where already read (LIBSVM made dense), else null.</param>
    private PreparedTraining FromTable(Table? read = null)
    {
        (Table train, Table? validation) = LoadTables(read);
        var prepared = new PreparedTraining((gpu, onEpoch) => Pipeline.Train(gpu, train, validation, Options, onEpoch, Start));
        prepared.Notes.Add($"data: {train.Source}: {train.Rows} rows, {Features(train)} features" +
                           (train.Sparse ? " (LIBSVM: scaled without centring)" : "") +
                           (validation is null ? "" : $"; validation: {validation.Rows} rows"));
        if (File.Exists(Data) && new FileInfo(Data).Length > LargeTableBytes)
            prepared.Notes.Add($"note: {Data} was read whole into memory; for large data, `softmaxgpu convert` makes a .sgd file " +
                               "that trains in blocks and starts without parsing");
        return prepared;
    }

    /// <summary>
    /// Choosing C by cross-validation or on validation rows, from a table in host memory, then the refit
    /// (<see cref="Pipeline.TrainPath(Gpu, Table, Table?, TrainOptions, IReadOnlyCollection{double}, int?, PathScore, Action{EpochReport}?)"/>).
    /// </summary>
    private PreparedTraining FromTableByFolds(Table? read = null)
    {
        (Table train, Table? validation) = LoadTables(read);
        PreparedTraining prepared = ByPath((gpu, onEpoch) => Pipeline.TrainPath(gpu, train, validation, Options, Grid, Folds, Score, onEpoch));
        prepared.Notes.Add($"data: {train.Source}: {train.Rows} rows, {Features(train)} features; {PathNote(validation?.Rows)}");
        return prepared;
    }

    /// <summary>D: a table's columns but its weight and target columns, which it keeps until <see cref="Pipeline"/> takes them out.</summary>
    private int Features(Table train) => train.Dim - (Options.WeightColumn is null ? 0 : 1) - (Options.TargetColumns?.Length ?? 0);

    /// <summary>
    /// Multi-label training from a CSV in host memory: a tags column or 0/1 tag columns (<see cref="TagTable"/>); or from
    /// LIBSVM tag lists made dense (<paramref name="read"/>, with a validation file read alike).
    /// </summary>
    private PreparedTraining FromTags(SparseTable? read = null)
    {
        ModelKind kind = TagTable.KindOf(Label);
        Table train = read is null ? TagTable.Load(Data, Label, csv: Csv) : Dense(read);
        Table? validation = Validation is null ? null
            : read is not null ? Dense(ValidationRows(read))
            : TagTable.Load(Validation, kind == ModelKind.MultiLabelColumns ? Label : train.LabelName, csv: Csv);
        if (ValidationFraction is double f)
            (train, validation) = TagPipeline.Split(train, f, Options.Seed);
        string[]? tagColumns = TagTable.TagColumns(Label);
        PreparedTraining prepared = IsPath
            ? ByPath((gpu, onEpoch) => TagPipeline.TrainPath(gpu, train, validation, kind, tagColumns, Options, Grid, Folds, Score, onEpoch))
            : new PreparedTraining((gpu, onEpoch) => TagPipeline.Train(gpu, train, validation, kind, tagColumns, Options, onEpoch, Start));
        prepared.Notes.Add($"data: {train.Source}: {train.Rows} rows, {train.Dim} features, multi-label " +
                           (read is not null ? "(LIBSVM tag lists, made dense)"
                               : kind == ModelKind.MultiLabelColumns ? $"(tag columns {Label})" : $"(tags in column '{train.LabelName}')") +
                           (IsPath ? $"; {PathNote(validation?.Rows)}" : validation is null ? "" : $"; validation: {validation.Rows} rows"));
        return prepared;
    }

    /// <summary>
    /// Training from a .sgd file read in blocks: host memory holds a block, not the set. What its rows carry (labels,
    /// probability targets, tags, weights) is the file's, checked against the options (<see cref="SgdTargetOptions"/>).
    /// Choosing C reads it in blocks too (<see cref="Pipeline.TrainPath(Gpu, SgdReader, Table?, SgdReader?, TrainOptions,
    /// IReadOnlyCollection{double}, int?, PathScore, Action{EpochReport}?)"/>): host memory adds the labels and folds.
    /// </summary>
    private PreparedTraining FromFile()
    {
        SgdReader train = SgdReader.Open(Data);
        SgdReader? validationFile = null;
        try
        {
            TrainOptions options = SgdTargetOptions.For(train, Label, MultiLabel, Options);
            if (Validation is not null && DataSource.KindOf(Validation, Format) == DataKind.Sgd)
                validationFile = DataSource.OpenSgd(Validation, train.Targets.Kind == RowTargetKind.Labels ? train.LabelName : null);
            Table? validationTable = Validation is not null && validationFile is null ? ValidationTable(train, options) : null;
            PreparedTraining prepared = IsPath
                ? ByPath((gpu, onEpoch) => Pipeline.TrainPath(gpu, train, validationTable, validationFile, options, Grid, Folds, Score, onEpoch),
                    null, train, validationFile)
                : new PreparedTraining((gpu, onEpoch) =>
                    Pipeline.Train(gpu, train, validationTable, validationFile, options, onEpoch, Start), train, validationFile);
            long? validationRows = Validation is null ? null : validationFile?.Rows ?? validationTable!.Rows;
            prepared.Notes.Add($"data: {Data}: {train.Rows} rows, {train.Dim} features (read in blocks of {train.BlockRows})" +
                               (train.Targets.LabelsOnly ? "" : $", {train.Targets.Describe()}") +
                               (IsPath ? $"; {PathNote(validationRows)}" : validationRows is null ? "" : $"; validation: {validationRows} rows"));
            return prepared;
        }
        catch
        {
            train.Dispose();
            validationFile?.Dispose();
            throw;
        }
    }

    /// <summary>A validation table for training from <paramref name="train"/>: read as training from the CSV reads it (its tags, or its label, target and weight columns).</summary>
    private Table ValidationTable(SgdReader train, TrainOptions options)
    {
        RowTargets targets = train.Targets;
        if (targets.IsMultiLabel)
            return TagTable.Load(Validation!, targets.Kind == RowTargetKind.MultiLabelColumns ? string.Join(',', targets.Names!) : train.LabelName,
                csv: Csv);
        return Weighting.Load(Validation!, options.TargetColumns is null ? train.LabelName : null, options, training: false, Format,
            LibSvmOptions.For(train.FeatureNames, "the training data"), Csv);
    }

    /// <summary>The training table and the validation table: from <see cref="Validation"/>, or held out, or none.</summary>
    /// <remarks>The tables keep their weight and target columns, which <see cref="Pipeline"/> takes out.</remarks>
    private (Table Train, Table? Validation) LoadTables(Table? read)
    {
        Table train = read ?? Weighting.Load(Data, Label, Options, training: true, Format, LibSvm, Csv);
        // The training table's columns (its weight and target columns too) found by name, in any order, as a model's are.
        Table? validation = Validation is null ? null
            : Weighting.Load(Validation, Options.TargetColumns is null ? train.LabelName : null, Options, training: false, Format,
                LibSvmOptions.For(train.FeatureNames, "the training data"), Csv with { Features = train.FeatureNames });
        if (ValidationFraction is double f)
        {
            (int[] trainRows, int[] valRows) = Split.Stratified(train.Encode(train.DistinctClasses()), f, Options.Seed);
            validation = train.Subset(valRows);
            train = train.Subset(trainRows);
        }
        return (train, validation);
    }
}

/// <summary>Data read and checked for a <see cref="TrainingSpec"/>: what was read (<see cref="Notes"/>), and the run.</summary>
public sealed class PreparedTraining(Func<Gpu, Action<EpochReport>?, (SoftmaxModel, TrainResult)> train,
    params IDisposable?[] files) : IDisposable
{
    /// <summary>Lines on what was read ("data: …", notes), for the user.</summary>
    public List<string> Notes { get; } = [];

    /// <summary>
    /// Where the data trains on an engine of its own (sparse rows): what runs it on the device opened, in words, once
    /// checked to fit there (it throws where not); null: the device's dense engines.
    /// </summary>
    public Func<Gpu, string>? Engine { get; init; }

    /// <summary>The path over C, after <see cref="Train"/>, where the spec chose C by cross-validation.</summary>
    public PathResult? Path { get; internal set; }

    /// <summary>Trains on <paramref name="gpu"/> and returns the model and how it went.</summary>
    public (SoftmaxModel Model, TrainResult Result) Train(Gpu gpu, Action<EpochReport>? onEpoch = null) => train(gpu, onEpoch);

    public void Dispose()
    {
        foreach (IDisposable? file in files)
            file?.Dispose();
    }
}
