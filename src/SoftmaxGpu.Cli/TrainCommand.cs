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
    public const string DefaultData = "datasets/iris.csv";
    public const string DefaultModel = "softmaxgpu.model";

    public static Command Create(TextWriter output, TextWriter error)
    {
        var data = new Option<string>("--data")
        {
            Description = $"Training data: a CSV file with a header, or a folder of MNIST IDX files (its train-* files); default: {BundledData.IrisHelp}.",
            DefaultValueFactory = _ => BundledData.IrisPath(),
        };
        var label = new Option<string?>("--label") { Description = "Label column of the CSV (default: the last column)." };
        var model = new Option<string>("--model")
        {
            Description = "Where to write the model file.",
            DefaultValueFactory = _ => DefaultModel,
        };
        var val = new Option<string?>("--val") { Description = "Validation data (CSV, or an MNIST folder: its t10k files)." };
        var valFraction = new Option<double?>("--val-fraction")
        {
            Description = "Hold out this fraction of the training rows for validation (seeded, stratified).",
        };
        var epochs = new Option<int?>("--epochs")
        {
            Description = $"Passes over the data (default: enough for {TrainOptions.AutoEpochSteps} steps, at least {TrainOptions.MinAutoEpochs}); " +
                          $"with lbfgs, the most iterations (default {Lbfgs.DefaultIterations}).",
        };
        var batch = new Option<int>("--batch-size")
        {
            Description = "Rows per update; 0 for full batch (lbfgs always uses the full batch).",
            DefaultValueFactory = _ => TrainOptions.DefaultBatchSize,
        };
        var lr = new Option<float>("--lr")
        {
            Description = "Learning rate (peak of the schedule); lbfgs finds its own steps.",
            DefaultValueFactory = _ => TrainOptions.DefaultLearningRate,
        };
        var schedule = new Option<string>("--lr-schedule")
        {
            Description = "cosine (decay to 0 over the planned steps) or constant.",
            DefaultValueFactory = _ => "cosine",
        };
        var optimizer = new Option<string>("--optimizer")
        {
            Description = "adam, sgd, or lbfgs (full-batch L-BFGS to the optimum of mean CE + (λ/2)·‖W‖²).",
            DefaultValueFactory = _ => TrainOptions.DefaultOptimizer,
        };
        var momentum = new Option<float>("--momentum")
        {
            Description = "SGD momentum in [0, 1).",
            DefaultValueFactory = _ => TrainOptions.DefaultMomentum,
        };
        var nesterov = new Option<bool>("--nesterov") { Description = "Nesterov momentum (with --optimizer sgd)." };
        var weightDecay = new Option<float>("--weight-decay")
        {
            Description = "L2 penalty λ: the objective is mean cross-entropy + (λ/2)·‖W‖², bias unpenalized " +
                          "(scikit-learn's C on N rows is λ = 1/(C·N)).",
            DefaultValueFactory = _ => TrainOptions.DefaultWeightDecay,
        };
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the shuffle and the validation split.",
            DefaultValueFactory = _ => TrainOptions.DefaultSeed,
        };
        var patience = new Option<int>("--patience")
        {
            Description = "Stop after this many epochs without a lower validation loss and keep the best epoch; 0: never.",
            DefaultValueFactory = _ => TrainOptions.DefaultPatience,
        };
        Option<string> device = App.DeviceOption();

        var command = new Command("train", "Train a softmax-regression model on the GPU and write it to a file.")
        {
            data, label, model, val, valFraction, epochs, batch, lr, schedule, optimizer, momentum, nesterov,
            weightDecay, seed, patience, device,
        };
        command.SetAction(parse => App.Guard(error, () =>
        {
            var options = new TrainOptions
            {
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                Schedule = parse.GetValue(schedule)!,
                Optimizer = parse.GetValue(optimizer)!,
                Momentum = parse.GetValue(momentum),
                Nesterov = parse.GetValue(nesterov),
                WeightDecay = parse.GetValue(weightDecay),
                Seed = parse.GetValue(seed),
                Patience = parse.GetValue(patience),
            };
            options.Validate();
            string? valPath = parse.GetValue(val);
            double? fraction = parse.GetValue(valFraction);
            if (valPath is not null && fraction is not null)
                throw new ArgumentException("give --val or --val-fraction, not both");
            if (fraction is <= 0 or >= 1)
                throw new ArgumentException($"--val-fraction must be between 0 and 1 (exclusive), got {fraction}");

            Table train = DataSource.Load(parse.GetValue(data)!, parse.GetValue(label), testSplit: false);
            Table? validation = valPath is null ? null : DataSource.Load(valPath, train.LabelName, testSplit: true);
            if (fraction is double f)
            {
                (int[] trainRows, int[] valRows) = Split.Stratified(train.Encode(train.DistinctClasses()), f, options.Seed);
                validation = train.Subset(valRows);
                train = train.Subset(trainRows);
            }
            output.WriteLine($"data: {train.Source}: {train.Rows} rows, {train.Dim} features" +
                             (validation is null ? "" : $"; validation: {validation.Rows} rows"));

            using Gpu gpu = App.OpenDevice(parse.GetValue(device)!, error);
            var clock = Stopwatch.StartNew();
            (SoftmaxModel trained, TrainResult result) = Pipeline.Train(gpu, train, validation, options,
                report => output.WriteLine(FormatEpoch(report)));
            ModelFile.Save(trained, parse.GetValue(model)!);
            if (result.Summary is not null)
                output.WriteLine(result.Summary);

            EpochReport kept = result.History[result.BestEpoch - 1];
            output.WriteLine(
                $"model: {parse.GetValue(model)} ({trained.K} classes: {string.Join(", ", trained.Classes.Take(10))}" +
                $"{(trained.K > 10 ? ", …" : "")}; {trained.D} features); kept epoch {result.BestEpoch}" +
                (result.StoppedEarly ? " (stopped early)" : "") +
                $"; train loss {kept.TrainLoss:F4}" +
                (result.Objective is double j ? $", objective {j:F8}" : "") +
                (kept.ValLoss is double vl ? $", validation loss {vl:F4}, accuracy {kept.ValAccuracy:F4}" : "") +
                $"; {clock.Elapsed.TotalSeconds:F1} s");
            return 0;
        }));
        return command;
    }

    public static string FormatEpoch(EpochReport r)
    {
        string width = r.Epochs.ToString(CultureInfo.InvariantCulture);
        string epoch = r.Epoch.ToString(CultureInfo.InvariantCulture).PadLeft(width.Length);
        string val = r.ValLoss is double vl ? $"  val loss {vl:F4}  acc {r.ValAccuracy:F4}" : "";
        string objective = r.Objective is double j ? $"  objective {j:F6}" : "";
        return $"epoch {epoch}/{width}  train loss {r.TrainLoss:F4}  acc {r.TrainAccuracy:F4}{objective}{val}  {r.Elapsed.TotalSeconds:F2} s";
    }
}
