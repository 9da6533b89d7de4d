using System.CommandLine;
using SoftmaxGpu.Data;
using SoftmaxGpu.Distributed;
using SoftmaxGpu.Model;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Cli;

/// <summary>
/// The options of <c>softmaxgpu train</c> and how they map onto the library: <see cref="TrainOptions"/> (the
/// optimizer's settings) and <see cref="TrainingSpec"/> (the data and how it is read). Nothing here reads data.
/// </summary>
public sealed class TrainArguments
{
    public const string DefaultModel = "softmaxgpu.model";

    public Option<string> Data { get; } = new("--data")
    {
        Description = $"Training data: a CSV file with a header, a LIBSVM file (see --format), a .sgd file (softmaxgpu convert), or a folder of MNIST IDX files (its train-* files); default: {BundledData.IrisHelp}.",
        DefaultValueFactory = _ => BundledData.IrisPath(),
    };
    public Option<string?> Label { get; } = new("--label")
    {
        Description = "Label column of the CSV (default: the last column; a .sgd file's is fixed by convert). With --multi-label: " +
                      "the tags column, or two or more comma-separated 0/1 tag columns. Not with --target-columns.",
    };
    public Option<string> Model { get; } = new("--model")
    {
        Description = "Where to write the model file.",
        DefaultValueFactory = _ => DefaultModel,
    };
    public Option<string?> Val { get; } = new("--val") { Description = "Validation data (CSV, LIBSVM, .sgd, or an MNIST folder: its t10k files)." };
    public Option<double?> ValFraction { get; } = new("--val-fraction")
    {
        Description = "Hold out this fraction of the training rows for validation (seeded, stratified).",
    };
    public Option<string> Optimizer { get; } = new Option<string>("--optimizer")
    {
        Description = "auto (default): Newton to the optimum for a small softmax model (at most " + NewtonOptimizer.MaxParameters +
                      " parameters, K·D + K) on the host engine in one process; else full-batch L-BFGS to the optimum where the training set " +
                      "fits the device, Adam otherwise (or when --batch-size, --lr or --patience is given); a search over --C or " +
                      "--weight-decay values fits each with Newton or L-BFGS, whatever is given; or one of: " +
                      string.Join("; ", Optimizers.All.Select(o => $"{o.Name}: {o.Description}")) + ".",
        DefaultValueFactory = _ => Optimizers.Auto,
    }.AnyCaseOf(Optimizers.Names); // a name it lacks is a parse error: its line and the see line
    public Option<int?> Epochs { get; } = new("--epochs")
    {
        Description = $"Most L-BFGS iterations (default {LbfgsOptimizer.DefaultIterations}; Newton: {NewtonOptimizer.DefaultIterations}); " +
                      $"for adam and sgd, passes over " +
                      $"the data (default: enough for {Optimizers.DefaultUpdates} updates, at least {Optimizers.MinEpochs}).",
    };
    public Option<string?> WeightDecay { get; } = new("--weight-decay")
    {
        Description = "L2 penalty λ: the objective is mean cross-entropy + (λ/2)·‖W‖², bias unpenalized. " +
                      "Default 1/N (1/Σw with weights), which is scikit-learn's LogisticRegression with C = 1. " +
                      "Several values (1e-4,1e-3) or a log-spaced range low:high:count are chosen among as --C's are, " +
                      "the same λ on every fold, from the largest down.",
    };
    public Option<string?> C { get; } = new("--C")
    {
        Description = "scikit-learn's inverse regularization strength instead of --weight-decay: λ = 1/(C·N), or 1/(C·Σw) with weights. " +
                      "Several values (0.1,1,10) or a log-spaced range low:high:count (1e-4:1e4:10, scikit-learn's Cs=10) are chosen among by --cv.",
    };
    public Option<int?> Cv { get; } = new("--cv")
    {
        Description = "Choose C among the --C values (or λ among the --weight-decay values) by K-fold cross-validation (stratified by class, seeded by --seed; multi-label rows " +
                      "in seeded folds, not stratified), each fold fitting the values from the smallest C up with warm starts as a single " +
                      "fit on its rows would (with weights: λ = 1/(C·Σw) of the fold's rows), then refit on every row at the chosen C. " +
                      "L-BFGS, rows in memory (LIBSVM rows kept sparse too), or a .sgd file (a dense one read in blocks fold by fold); held-out rows are " +
                      "scored as --val rows are, unweighted.",
    };
    public Option<string> Select { get; } = new("--select")
    {
        Description = "What --cv chooses C by: accuracy (the default, as scikit-learn's LogisticRegressionCV) or log-loss. With " +
                      "--multi-label: subset accuracy (a row is right when every tag is) or the mean binary cross-entropy summed over the tags.",
        DefaultValueFactory = _ => "accuracy",
    };
    public Option<int?> Batch { get; } = new("--batch-size")
    {
        Description = $"Mini-batch rows per update (adam, sgd; default {TrainOptions.DefaultBatchSize}), per rank under mpirun (an update averages P·B rows); 0 for the full batch.",
    };
    public Option<float?> Lr { get; } = new("--lr")
    {
        Description = $"Learning rate of adam and sgd, the peak of the schedule (default {TrainOptions.DefaultLearningRate}).",
    };
    public Option<string> Schedule { get; } = new Option<string>("--lr-schedule")
    {
        Description = string.Join("; ", Schedules.All.Select(s => $"{s.Name}: {s.Description}")) + " (adam, sgd).",
        DefaultValueFactory = _ => Schedules.Cosine.Name,
    }.AnyCaseOf([.. Schedules.All.Select(s => s.Name)]);
    public Option<float> Momentum { get; } = new("--momentum")
    {
        Description = "SGD momentum in [0, 1).",
        DefaultValueFactory = _ => TrainOptions.DefaultMomentum,
    };
    public Option<bool> Nesterov { get; } = new("--nesterov") { Description = "Nesterov momentum (with --optimizer sgd)." };
    public Option<int> Seed { get; } = new("--seed")
    {
        Description = "Seed of the shuffle and the validation split.",
        DefaultValueFactory = _ => TrainOptions.DefaultSeed,
    };
    public Option<int> Patience { get; } = new("--patience")
    {
        Description = "Stop after this many epochs without a lower validation loss and keep the best epoch (adam, sgd; needs --val or --val-fraction); 0: never.",
    };
    public Option<string?> DeviceMemory { get; } = new("--device-memory")
    {
        Description = $"Most device memory training may use (e.g. 512MiB, 2GiB; default {TrainPlan.DeviceMemoryShare:P0} of what " +
                      "the device reports). Sets that do not fit stay in host memory and stream through the device in blocks.",
    };
    public Option<bool> Quiet { get; } = new("--quiet") { Description = "Print only the summary: no epoch lines, and no line a value while a search over C (weight decay) runs." };
    public Option<string?> LogJson { get; } = new("--log-json") { Description = "Write one JSON object per epoch (iteration) to this file." };
    public Option<string?> Plot { get; } = new("--plot")
    {
        Description = "Draw training (and validation) loss and accuracy against the epoch (iteration) into this PNG file.",
    };
    public Option<float> Smoothing { get; } = new("--label-smoothing")
    {
        Description = "Label smoothing ε in [0, 1): train on targets (1 − ε)·onehot + ε/K, as PyTorch's CrossEntropyLoss (any data, .sgd files too).",
    };
    public Option<string?> ClassWeight { get; } = new("--class-weight")
    {
        Description = $"Weigh each row's loss by its class: '{Weighting.Balanced}' (w_c = N/(K·n_c), scikit-learn's) or " +
                      "class=weight pairs, e.g. a=2,b=0.5 (classes not named: 1). With weights w_i (class × --weight-column) " +
                      "the objective is Σ w_i·CE_i / Σ w_i + (λ/2)·‖W‖², λ = 1/(C·Σ w_i): scikit-learn's with the same " +
                      "weights, divided by C·Σw. The validation loss stays unweighted. A .sgd file takes class weights, and keeps the weights it was converted with.",
    };
    public Option<string?> WeightColumn { get; } = new("--weight-column")
    {
        Description = "A CSV column of per-row weights (finite, >= 0, not all 0), not a feature; multiplied by --class-weight. " +
                      "convert keeps the weights in the .sgd file, and train takes them from it.",
    };
    public Option<string?> TargetColumns { get; } = new("--target-columns")
    {
        Description = "Comma-separated CSV columns holding each row's class probabilities (>= 0, summing to 1 within " +
                      $"{Weighting.TargetSumTolerance:G2}), instead of --label: the classes are these names in this order, " +
                      "every other column is a feature, the loss is −Σ_c y_c·log q_c and accuracy counts the largest target as the true class. " +
                      "convert keeps the targets in the .sgd file, and train takes them from it.",
    };
    public Option<string?> InitModel { get; } = new("--init-model")
    {
        Description = "Continue from a saved model: start at its W and b, keep its classes and standardization (the data must have its feature columns).",
    };
    public Option<bool> MultiLabel { get; } = new("--multi-label")
    {
        Description = "Multi-label: several tags per row, a sigmoid and binary cross-entropy per tag. --label names one column " +
                      "of '|'-separated tags (default: the last column; an empty cell is no tag) or, comma-separated, " +
                      "two or more 0/1 columns, one per tag (CSV data; convert keeps the tags in the .sgd file, which then trains with --multi-label). " +
                      "LIBSVM data: each line's first token is its comma-separated tags (3,17,42), none where the line starts with " +
                      "index:value; kept sparse as --sparse says. Without it, a LIBSVM label holding ',' is an error.",
    };
    public Option<string?> Ignore { get; } = new("--ignore")
    {
        Description = "Comma-separated CSV columns that are not features (an id, a name): never read, so they may hold " +
                      "text, and the model records nothing of them; predict and evaluate leave them out too.",
    };
    public Option<SparseMode> Sparse { get; } = new("--sparse")
    {
        Description = $"LIBSVM rows: keep them sparse (CSR: 8 bytes a non-zero) or make them dense. auto (default): sparse " +
                      $"below {SparseChoice.DenseFrom:P0} density or where dense rows would not fit memory; on; off. Sparse rows " +
                      "train with lbfgs (softmax or --multi-label) on the host engine or an ILGPU device.",
        DefaultValueFactory = _ => SparseMode.Auto,
        HelpName = "auto|off|on",
    };
    public Option<FeatureScaling> Scale { get; } = new("--scale")
    {
        Description = "Feature scaling, kept in the model: std (default: centred, unit variance — L-BFGS converges fastest; " +
                      "sparse rows are centred implicitly, never filled in); maxabs (x / max|x|, no centring); none (the raw " +
                      "features: the objective is exactly scikit-learn's LogisticRegression on them).",
        DefaultValueFactory = _ => FeatureScaling.Std,
        HelpName = "std|maxabs|none",
    };
    public Option<string> Device { get; } = App.DeviceOption();
    public DataFormatOptions Formats { get; } = new();

    /// <summary>Every option, in the order --help lists them.</summary>
    public IEnumerable<Option> All =>
    [
        Data, Label, Model, Val, ValFraction, Optimizer, Epochs, WeightDecay, C, Batch, Lr, Schedule, Momentum,
        Nesterov, Seed, Patience, DeviceMemory, Quiet, LogJson, Plot, Smoothing, ClassWeight, WeightColumn, TargetColumns,
        InitModel, MultiLabel, Ignore, Cv, Select, Sparse, Scale, Device, .. Formats.All,
    ];

    /// <summary>The optimizer's settings, validated (before any data is read: a bad option should not wait for a large file).</summary>
    public TrainOptions Options(ParseResult parse, ICommunicator ranks)
    {
        var options = new TrainOptions
        {
            Ranks = ranks,
            Optimizer = OptionChoices.Named(parse.GetValue(Optimizer)!, Optimizers.Names),
            Epochs = parse.GetValue(Epochs),
            WeightDecay = Decays(parse) is [double decay] ? (float)decay : null,
            C = Grid(parse) is [double single] ? single : null,
            PathPenalty = parse.GetValue(WeightDecay) is null ? PathPenalty.C : PathPenalty.WeightDecay,
            BatchSize = parse.GetValue(Batch),
            LearningRate = parse.GetValue(Lr),
            Schedule = OptionChoices.Named(parse.GetValue(Schedule)!, [.. Schedules.All.Select(s => s.Name)]),
            Momentum = parse.GetValue(Momentum),
            Nesterov = parse.GetValue(Nesterov),
            Seed = parse.GetValue(Seed),
            Patience = parse.GetValue(Patience),
            DeviceMemory = parse.GetValue(DeviceMemory) is string size ? ByteSize.Parse(size, "--device-memory") : null,
            LabelSmoothing = parse.GetValue(Smoothing),
            ClassWeight = parse.GetValue(ClassWeight),
            WeightColumn = parse.GetValue(WeightColumn),
            TargetColumns = TargetColumnsOf(parse),
            Scale = parse.GetValue(Scale),
        };
        options.Validate();
        return options;
    }

    /// <summary>--target-columns' names, or null.</summary>
    private string[]? TargetColumnsOf(ParseResult parse) => parse.GetValue(TargetColumns)?.Split(',', StringSplitOptions.TrimEntries);

    /// <summary>The options that say what a CSV's columns are (label, targets, tags, weights, ignored), which convert shares with train.</summary>
    public IEnumerable<Option> ColumnOptions => [Label, MultiLabel, TargetColumns, WeightColumn, Ignore];

    /// <summary>
    /// The spec of a conversion (<see cref="TrainingSpec.Convert"/>): the data and what its rows carry, mapped as train
    /// maps <see cref="ColumnOptions"/>, so convert keeps what train would read; <paramref name="formats"/> are convert's
    /// own --separator and format options.
    /// </summary>
    public TrainingSpec ConvertSpec(ParseResult parse, string data, DataFormatOptions formats, DataFormat format, LibSvmOptions libsvm) => new()
    {
        Data = data,
        Label = parse.GetValue(Label),
        MultiLabel = parse.GetValue(MultiLabel),
        Format = format,
        LibSvm = libsvm,
        Csv = formats.CsvWithIgnore(parse, Ignore),
        Options = new TrainOptions { WeightColumn = parse.GetValue(WeightColumn), TargetColumns = TargetColumnsOf(parse) },
    };

    /// <summary>The data and how to read it (formats checked against the file and --label), with the model to continue from.</summary>
    public TrainingSpec Spec(ParseResult parse, TrainOptions options, SoftmaxModel? start)
    {
        string data = parse.GetValue(Data)!;
        (DataFormat format, LibSvmOptions libsvm) = Formats.For(parse, data, parse.GetValue(Label));
        return new TrainingSpec
        {
            Data = data,
            Label = parse.GetValue(Label),
            Validation = parse.GetValue(Val),
            ValidationFraction = parse.GetValue(ValFraction),
            Format = format,
            LibSvm = libsvm,
            Csv = Formats.CsvWithIgnore(parse, Ignore),
            MultiLabel = parse.GetValue(MultiLabel),
            Sparse = parse.GetValue(Sparse),
            Start = start,
            Options = options,
            Cs = (Grid(parse) ?? Decays(parse)) is { Length: > 1 } grid ? grid : null,
            Folds = parse.GetValue(Cv),
            Score = parse.GetValue(Select) switch
            {
                "accuracy" => PathScore.Accuracy,
                "log-loss" => PathScore.LogLoss,
                string other => throw new ArgumentException($"--select must be accuracy or log-loss, got '{other}'"),
                null => PathScore.Accuracy,
            },
        };
    }

    /// <summary>--C's values (<see cref="CrossValidation.ParseGrid"/>), or null where not given.</summary>
    private double[]? Grid(ParseResult parse) => parse.GetValue(C) is string text ? CrossValidation.ParseGrid(text) : null;

    /// <summary>--weight-decay's values (λ in float, as a single fit takes it), or null where not given; with --C, an error.</summary>
    private double[]? Decays(ParseResult parse)
    {
        if (parse.GetValue(WeightDecay) is not string text)
            return null;
        if (parse.GetValue(C) is not null)
            throw new ArgumentException("give --C or --weight-decay, not both");
        return CrossValidation.ParseGrid(text, PathPenalty.WeightDecay);
    }
}
