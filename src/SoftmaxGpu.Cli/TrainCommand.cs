using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Model;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Cli;

/// <summary><c>softmaxgpu train</c>: read data, train on the device, write the model file.</summary>
public static class TrainCommand
{
    public const string DefaultModel = "softmaxgpu.model";

    public static Command Create(TextWriter output, TextWriter error)
    {
        var data = new Option<string>("--data")
        {
            Description = $"Training data: a CSV file with a header, a LIBSVM file (see --format), a .sgd file (softmaxgpu convert), or a folder of MNIST IDX files (its train-* files); default: {BundledData.IrisHelp}.",
            DefaultValueFactory = _ => BundledData.IrisPath(),
        };
        var label = new Option<string?>("--label")
        {
            Description = "Label column of the CSV (default: the last column; a .sgd file's is fixed by convert). With --multi-label: " +
                          "the tags column, or two or more comma-separated 0/1 tag columns. Not with --target-columns.",
        };
        var model = new Option<string>("--model")
        {
            Description = "Where to write the model file.",
            DefaultValueFactory = _ => DefaultModel,
        };
        var val = new Option<string?>("--val") { Description = "Validation data (CSV, LIBSVM, .sgd, or an MNIST folder: its t10k files)." };
        var valFraction = new Option<double?>("--val-fraction")
        {
            Description = "Hold out this fraction of the training rows for validation (seeded, stratified).",
        };
        var optimizer = new Option<string>("--optimizer")
        {
            Description = "auto (default): full-batch L-BFGS to the optimum where the training set fits the device, " +
                          "Adam otherwise (or when --batch-size, --lr or --patience is given); or one of: " +
                          string.Join("; ", Optimizers.All.Select(o => $"{o.Name}: {o.Description}")) + ".",
            DefaultValueFactory = _ => Optimizers.Auto,
        };
        var epochs = new Option<int?>("--epochs")
        {
            Description = $"Most L-BFGS iterations (default {LbfgsOptimizer.DefaultIterations}); for adam and sgd, passes over " +
                          $"the data (default: enough for {Optimizers.DefaultUpdates} updates, at least {Optimizers.MinEpochs}).",
        };
        var weightDecay = new Option<float?>("--weight-decay")
        {
            Description = "L2 penalty λ: the objective is mean cross-entropy + (λ/2)·‖W‖², bias unpenalized. " +
                          "Default 1/N (1/Σw with weights), which is scikit-learn's LogisticRegression with C = 1.",
        };
        var c = new Option<double?>("--C")
        {
            Description = "scikit-learn's inverse regularization strength instead of --weight-decay: λ = 1/(C·N), or 1/(C·Σw) with weights.",
        };
        var batch = new Option<int?>("--batch-size")
        {
            Description = $"Mini-batch rows per update (adam, sgd; default {TrainOptions.DefaultBatchSize}); 0 for the full batch.",
        };
        var lr = new Option<float?>("--lr")
        {
            Description = $"Learning rate of adam and sgd, the peak of the schedule (default {TrainOptions.DefaultLearningRate}).",
        };
        var schedule = new Option<string>("--lr-schedule")
        {
            Description = string.Join("; ", Schedules.All.Select(s => $"{s.Name}: {s.Description}")) + " (adam, sgd).",
            DefaultValueFactory = _ => Schedules.Cosine.Name,
        };
        var momentum = new Option<float>("--momentum")
        {
            Description = "SGD momentum in [0, 1).",
            DefaultValueFactory = _ => TrainOptions.DefaultMomentum,
        };
        var nesterov = new Option<bool>("--nesterov") { Description = "Nesterov momentum (with --optimizer sgd)." };
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the shuffle and the validation split.",
            DefaultValueFactory = _ => TrainOptions.DefaultSeed,
        };
        var patience = new Option<int>("--patience")
        {
            Description = "Stop after this many epochs without a lower validation loss and keep the best epoch (adam, sgd; needs --val or --val-fraction); 0: never.",
        };
        var deviceMemory = new Option<string?>("--device-memory")
        {
            Description = $"Most device memory training may use (e.g. 512MiB, 2GiB; default {TrainPlan.DeviceMemoryShare:P0} of what " +
                          "the device reports). Sets that do not fit stay in host memory and stream through the device in blocks.",
        };
        var quiet = new Option<bool>("--quiet") { Description = "Print only the summary, no epoch lines." };
        var logJson = new Option<string?>("--log-json") { Description = "Write one JSON object per epoch (iteration) to this file." };
        var plot = new Option<string?>("--plot")
        {
            Description = "Draw training (and validation) loss and accuracy against the epoch (iteration) into this PNG file.",
        };
        var smoothing = new Option<float>("--label-smoothing")
        {
            Description = "Label smoothing ε in [0, 1): train on targets (1 − ε)·onehot + ε/K, as PyTorch's CrossEntropyLoss (any data, .sgd files too).",
        };
        var classWeight = new Option<string?>("--class-weight")
        {
            Description = $"Weigh each row's loss by its class: '{Weighting.Balanced}' (w_c = N/(K·n_c), scikit-learn's) or " +
                          "class=weight pairs, e.g. a=2,b=0.5 (classes not named: 1). With weights w_i (class × --weight-column) " +
                          "the objective is Σ w_i·CE_i / Σ w_i + (λ/2)·‖W‖², λ = 1/(C·Σ w_i): scikit-learn's with the same " +
                          "weights, divided by C·Σw. The validation loss stays unweighted. A .sgd file takes class weights, not --weight-column.",
        };
        var weightColumn = new Option<string?>("--weight-column")
        {
            Description = "A CSV column of per-row weights (finite, >= 0, not all 0), not a feature; multiplied by --class-weight.",
        };
        var targetColumns = new Option<string?>("--target-columns")
        {
            Description = "Comma-separated CSV columns holding each row's class probabilities (>= 0, summing to 1 within " +
                          $"{Weighting.TargetSumTolerance:G2}), instead of --label: the classes are these names in this order, " +
                          "every other column is a feature, the loss is −Σ_c y_c·log q_c and accuracy counts the largest target as the true class.",
        };
        var initModel = new Option<string?>("--init-model")
        {
            Description = "Continue from a saved model: start at its W and b, keep its classes and standardization (the data must have its feature columns).",
        };
        var multiLabel = new Option<bool>("--multi-label")
        {
            Description = "Multi-label: several tags per row, a sigmoid and binary cross-entropy per tag. --label names one column " +
                          "of '|'-separated tags (default: the last column; an empty cell is no tag) or, comma-separated, " +
                          "two or more 0/1 columns, one per tag (CSV data).",
        };
        var ignore = new Option<string?>("--ignore")
        {
            Description = "Comma-separated CSV columns that are not features (an id, a name): never read, so they may hold " +
                          "text, and the model records nothing of them; predict and evaluate leave them out too.",
        };
        Option<string> device = App.DeviceOption();
        var dataFormat = new DataFormatOptions();

        var command = new Command("train", "Train a softmax-regression model on the GPU and write it to a file.")
        {
            data, label, model, val, valFraction, optimizer, epochs, weightDecay, c, batch, lr, schedule, momentum,
            nesterov, seed, patience, deviceMemory, quiet, logJson, plot, smoothing, classWeight, weightColumn, targetColumns,
            initModel, multiLabel, ignore, device,
        };
        foreach (Option option in dataFormat.All)
            command.Options.Add(option);
        // Under mpirun every rank runs this on its shard of the rows; rank 0 alone prints and writes (Ranked).
        command.SetAction(parse => Ranked.Run(output, error, (ranks, output) =>
        {
            var options = new TrainOptions
            {
                Ranks = ranks,
                Optimizer = parse.GetValue(optimizer)!,
                Epochs = parse.GetValue(epochs),
                WeightDecay = parse.GetValue(weightDecay),
                C = parse.GetValue(c),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                Schedule = parse.GetValue(schedule)!,
                Momentum = parse.GetValue(momentum),
                Nesterov = parse.GetValue(nesterov),
                Seed = parse.GetValue(seed),
                Patience = parse.GetValue(patience),
                DeviceMemory = parse.GetValue(deviceMemory) is string size ? ByteSize.Parse(size, "--device-memory") : null,
                LabelSmoothing = parse.GetValue(smoothing),
                ClassWeight = parse.GetValue(classWeight),
                WeightColumn = parse.GetValue(weightColumn),
                TargetColumns = parse.GetValue(targetColumns)?.Split(',', StringSplitOptions.TrimEntries),
            };
            options.Validate(); // before reading the data: a bad option should not wait for a large file
            Ranked.RequireSameStart(ranks, parse.Tokens.Select(t => t.Value), parse.GetValue(data), parse.GetValue(val),
                parse.GetValue(initModel));
            string? plotPath = parse.GetValue(plot);
            if (plotPath is not null)
                Plots.CheckPath(plotPath);
            bool first = ranks.Rank == 0; // the rank that reports and writes files
            string path = parse.GetValue(model)!;
            OutputPaths.Check(
                first ? [("--model", path), ("--plot", plotPath), ("--log-json", parse.GetValue(logJson))] : [],
                [("--data", parse.GetValue(data)), ("--val", parse.GetValue(val)), ("--init-model", parse.GetValue(initModel))]);
            using var outputs = new OutputPaths();
            IgnoredOptions.RequireValidation(options.Patience, parse.GetValue(val), parse.GetValue(valFraction));
            string[] given = IgnoredOptions.Given(parse, batch, lr, schedule, momentum, nesterov, patience, seed);
            OptimizerEntry? named = Optimizers.Find(options.Optimizer); // null: auto, which decides once the data is read
            if (named is not null)
                IgnoredOptions.Warn(first ? error : TextWriter.Null, named, auto: false, given, parse.GetValue(valFraction) is not null);
            string dataPath = parse.GetValue(data)!;
            string? valPath = parse.GetValue(val);
            (DataFormat format, LibSvmOptions libsvm) = dataFormat.For(parse, dataPath, parse.GetValue(label));
            CsvOptions csv = dataFormat.CsvOf(parse, ignore, dataPath);
            DataFormatOptions.WarnIgnored(first ? error : TextWriter.Null, parse, dataPath, format, dataFormat.Separator, label);
            SoftmaxModel? start = parse.GetValue(initModel) is string startPath ? ModelFile.Load(startPath) : null;
            if (start is not null && start.Kind.IsMultiLabel() != parse.GetValue(multiLabel))
                throw new ArgumentException($"--init-model: {parse.GetValue(initModel)} is a {start.Kind.FileName()} model; " +
                                            (start.Kind.IsMultiLabel() ? "add --multi-label" : "multi-label training continues only a multi-label model"));
            Func<Gpu, Action<EpochReport>, (SoftmaxModel, TrainResult)> train = parse.GetValue(multiLabel)
                ? FromTags(output, dataPath, parse.GetValue(label), valPath, parse.GetValue(valFraction), options, start, csv)
                : DataSource.IsSgd(dataPath)
                ? FromFile(output, dataPath, parse.GetValue(label), valPath, parse.GetValue(valFraction), options, start, format, csv)
                : FromTable(output, dataPath, parse.GetValue(label), valPath, parse.GetValue(valFraction), options, start, format, libsvm, csv);
            if (start is not null)
                output.WriteLine($"init: {parse.GetValue(initModel)} ({start.K} classes, {start.D} features; its standardization is kept)");

            using Gpu gpu = Ranked.OpenDevice(parse.GetValue(device)!, error, ranks);
            var clock = Stopwatch.StartNew();
            SoftmaxModel trained;
            TrainResult result;
            using (var progress = new TrainingProgress(output, TrainingProgress.For(output, parse.GetValue(quiet)),
                       first && parse.GetValue(logJson) is string log ? outputs.Stage(log) : null))
                (trained, result) = progress.Run(onEpoch => train(gpu, onEpoch));
            if (first)
            {
                // Every file is staged and moved into place together: a plot that fails leaves no model either.
                if (plotPath is not null)
                    Plots.TrainingCurves(result.History, result.Plan.Optimizer.FullBatch ? "iteration" : "epoch", outputs.Stage(plotPath));
                ModelFile.Save(trained, outputs.Stage(path));
                outputs.Commit();
            }
            WriteSummary(output, first ? error : TextWriter.Null, trained, result, path, clock.Elapsed);
            if (named is null)
                IgnoredOptions.Warn(first ? error : TextWriter.Null, result.Plan.Optimizer, auto: true, given,
                    parse.GetValue(valFraction) is not null);
            if (plotPath is not null && first)
                output.WriteLine($"plot: {plotPath}");
            return 0;
        }));
        return command;
    }

    /// <summary>Files larger than this, read as a table, get a note that `convert` makes a file that streams.</summary>
    public const long LargeTableBytes = 256L << 20;

    /// <summary>Training from a table in host memory (CSV, IDX, or a small .sgd split by --val-fraction).</summary>
    private static Func<Gpu, Action<EpochReport>, (SoftmaxModel, TrainResult)> FromTable(TextWriter output, string data,
        string? label, string? valPath, double? fraction, TrainOptions options, SoftmaxModel? start, DataFormat format,
        LibSvmOptions libsvm, CsvOptions csv)
    {
        (Table train, Table? validation) = LoadData(data, label, valPath, fraction, options, format, libsvm, csv);
        output.WriteLine($"data: {train.Source}: {train.Rows} rows, {train.Dim} features" +
                         (train.Sparse ? " (LIBSVM: scaled without centring)" : "") +
                         (validation is null ? "" : $"; validation: {validation.Rows} rows"));
        if (File.Exists(data) && new FileInfo(data).Length > LargeTableBytes)
            output.WriteLine($"note: {data} was read whole into memory; for large data, `softmaxgpu convert` makes a .sgd file " +
                             "that trains in blocks and starts without parsing");
        return (gpu, onEpoch) => Pipeline.Train(gpu, train, validation, options, onEpoch, start);
    }

    /// <summary>Multi-label training from a CSV in host memory: a tags column or 0/1 tag columns (<see cref="TagTable"/>).</summary>
    private static Func<Gpu, Action<EpochReport>, (SoftmaxModel, TrainResult)> FromTags(TextWriter output, string data,
        string? label, string? valPath, double? fraction, TrainOptions options, SoftmaxModel? start, CsvOptions csv)
    {
        if (valPath is not null && fraction is not null)
            throw new ArgumentException("give --val or --val-fraction, not both");
        if (fraction is <= 0 or >= 1)
            throw new ArgumentException($"--val-fraction must be between 0 and 1 (exclusive), got {fraction}");
        ModelKind kind = TagTable.KindOf(label);
        Table train = TagTable.Load(data, label, csv: csv);
        Table? validation = valPath is null ? null
            : TagTable.Load(valPath, kind == ModelKind.MultiLabelColumns ? label : train.LabelName, csv: csv);
        if (fraction is double f)
            (train, validation) = TagPipeline.Split(train, f, options.Seed);
        output.WriteLine($"data: {train.Source}: {train.Rows} rows, {train.Dim} features, multi-label " +
                         (kind == ModelKind.MultiLabelColumns ? $"(tag columns {label})" : $"(tags in column '{train.LabelName}')") +
                         (validation is null ? "" : $"; validation: {validation.Rows} rows"));
        return (gpu, onEpoch) => TagPipeline.Train(gpu, train, validation, kind, TagTable.TagColumns(label), options, onEpoch, start);
    }

    /// <summary>Training from a .sgd file read in blocks: host memory holds a block, not the set.</summary>
    private static Func<Gpu, Action<EpochReport>, (SoftmaxModel, TrainResult)> FromFile(TextWriter output, string data,
        string? label, string? valPath, double? fraction, TrainOptions options, SoftmaxModel? start, DataFormat format,
        CsvOptions csv)
    {
        if (fraction is not null)
            throw new ArgumentException("--val-fraction needs the data in memory; with a .sgd file give --val (a .sgd or CSV file)");
        SgdReader train = DataSource.OpenSgd(data, label);
        SgdReader? validationFile = valPath is not null && DataSource.IsSgd(valPath)
            ? DataSource.OpenSgd(valPath, train.LabelName)
            : null;
        Table? validationTable = valPath is not null && validationFile is null
            ? DataSource.Load(valPath, train.LabelName, testSplit: true, format: format,
                libsvm: LibSvmOptions.For(train.FeatureNames, "the training data"), csv: csv)
            : null;
        output.WriteLine($"data: {data}: {train.Rows} rows, {train.Dim} features (read in blocks of {train.BlockRows})" +
                         (valPath is null ? "" : $"; validation: {validationFile?.Rows ?? validationTable!.Rows} rows"));
        return (gpu, onEpoch) =>
        {
            using (train)
            using (validationFile)
                return Pipeline.Train(gpu, train, validationTable, validationFile, options, onEpoch, start);
        };
    }

    /// <summary>The training table and the validation table: from --val, or held out by --val-fraction, or none.</summary>
    /// <param name="libsvm">How a LIBSVM training file is read; a LIBSVM validation file takes the training set's D.</param>
    /// <remarks>The tables keep their weight and target columns, which <see cref="Pipeline"/> takes out.</remarks>
    private static (Table Train, Table? Validation) LoadData(string data, string? label, string? valPath, double? fraction,
        TrainOptions options, DataFormat format, LibSvmOptions libsvm, CsvOptions csv)
    {
        if (valPath is not null && fraction is not null)
            throw new ArgumentException("give --val or --val-fraction, not both");
        if (fraction is <= 0 or >= 1)
            throw new ArgumentException($"--val-fraction must be between 0 and 1 (exclusive), got {fraction}");
        Table train = Weighting.Load(data, label, options, training: true, format, libsvm, csv);
        Table? validation = valPath is null ? null
            : Weighting.Load(valPath, options.TargetColumns is null ? train.LabelName : null, options, training: false, format,
                LibSvmOptions.For(train.FeatureNames, "the training data"), csv);
        if (fraction is double f)
        {
            (int[] trainRows, int[] valRows) = Split.Stratified(train.Encode(train.DistinctClasses()), f, options.Seed);
            validation = train.Subset(valRows);
            train = train.Subset(trainRows);
        }
        return (train, validation);
    }

    /// <summary>What was optimized and how it ended, then the model line; a run that hit its cap says so on stderr.</summary>
    private static void WriteSummary(TextWriter output, TextWriter error, SoftmaxModel trained, TrainResult result, string path,
        TimeSpan elapsed)
    {
        TrainPlan plan = result.Plan;
        string loss = trained.Kind.IsMultiLabel() ? "mean over rows of the binary cross-entropy summed over the tags"
            : plan.Weighted ? "weighted mean cross-entropy Σ w·CE / Σ w" : "mean cross-entropy";
        output.WriteLine($"optimizer: {plan.Optimizer.Name} ({plan.Why}); objective: {loss} + (λ/2)·‖W‖², " +
                         $"λ = {plan.WeightDecay:G6} ({plan.WeightDecaySource})");
        if (plan.Streamed)
            output.WriteLine($"data: streamed through the device in blocks of {plan.BlockRows} rows " +
                             $"({(plan.Rows + plan.BlockRows - 1) / plan.BlockRows} blocks; {ByteSize.Format(plan.DeviceMemory)} of device memory allowed)");
        output.WriteLine(result.Summary);
        if (!result.Converged)
            error.WriteLine($"warning: {plan.Optimizer.Name} stopped at its iteration limit ({plan.Epochs}) before meeting its " +
                            "convergence rule; the model may be short of the optimum (raise --epochs)");
        EpochReport kept = result.History[result.BestEpoch - 1];
        output.WriteLine(
            $"model: {path} ({trained.K} {(trained.Kind.IsMultiLabel() ? "tags" : "classes")}: {string.Join(", ", trained.Classes.Take(10))}" +
            $"{(trained.K > 10 ? ", …" : "")}; {trained.D} features); kept epoch {result.BestEpoch}" +
            (result.StoppedEarly ? " (stopped early)" : "") +
            (result.Objective is double j
                ? $"; train loss {kept.TrainLoss:F4}, objective {j:F8}"
                : $"; train loss {kept.TrainLoss:F4} (running mean over the epoch)") +
            (kept.ValLoss is double vl
                ? $", validation loss {vl:F4}, {(trained.Kind.IsMultiLabel() ? "subset accuracy" : "accuracy")} {kept.ValAccuracy:F4}"
                : "") +
            $"; {elapsed.TotalSeconds:F1} s");
    }
}
