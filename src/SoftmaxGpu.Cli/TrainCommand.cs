using System.CommandLine;
using System.Diagnostics;
using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Model;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Cli;

/// <summary>
/// <c>softmaxgpu train</c>: the options mapped onto the library (<see cref="TrainArguments"/>), outputs checked,
/// the data read (<see cref="TrainingSpec"/>), training on the device, then the model file and the summary.
/// </summary>
public static class TrainCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var a = new TrainArguments();
        var command = new Command("train", "Train a softmax-regression model on the GPU and write it to a file.");
        foreach (Option option in a.All)
            command.Options.Add(option);
        // Under mpirun every rank runs this on its shard of the rows; rank 0 alone prints and writes (Ranked).
        command.SetAction(parse => Ranked.Run(output, error, (ranks, output) =>
        {
            Action<PathFit>? onFit = null; // the progress's, once it is made: a search's fits as they end
            TrainOptions options = a.Options(parse, ranks) with { OnPathFit = fit => onFit?.Invoke(fit) };
            Ranked.RequireSameStart(ranks, parse.Tokens.Select(t => t.Value), parse.GetValue(a.Data), parse.GetValue(a.Val),
                parse.GetValue(a.InitModel));
            bool first = ranks.Rank == 0; // the rank that reports and writes files
            TextWriter warnings = first ? error : TextWriter.Null;
            (string path, string? plotPath, string? logPath) = (parse.GetValue(a.Model)!, parse.GetValue(a.Plot), parse.GetValue(a.LogJson));
            // An output on standard output (--model /dev/stdout, --log-json /dev/stdout): what train says goes to standard error.
            if (first && ((string?[])[path, plotPath, logPath]).Any(p => p is not null && AtomicFile.IsStandardOutput(p)))
                output = error;
            if (plotPath is not null)
                Plots.CheckPath(plotPath);
            OutputPaths.Check(first ? [("--model", path), ("--plot", plotPath), ("--log-json", logPath)] : [],
                [("--data", parse.GetValue(a.Data)), ("--val", parse.GetValue(a.Val)), ("--init-model", parse.GetValue(a.InitModel))]);
            using var outputs = new OutputPaths();
            string[] given = IgnoredOptions.Given(parse, a.Batch, a.Lr, a.Schedule, a.Momentum, a.Nesterov, a.Patience, a.Seed);
            bool split = parse.GetValue(a.ValFraction) is not null || parse.GetValue(a.Cv) is not null; // rows --seed deals
            OptimizerEntry? named = Optimizers.Find(options.Optimizer); // null: auto, which decides once the data is read
            if (named is not null)
                IgnoredOptions.Warn(warnings, named, auto: false, given, split);
            if (ranks.Size == 1)
                Gpu.OpenSoon(parse.GetValue(a.Device)!); // while the data is read
            SoftmaxModel? start = parse.GetValue(a.InitModel) is string startPath ? ModelFile.Load(startPath) : null;
            if (start is not null && IgnoredOptions.Typed(parse, a.Scale))
                warnings.WriteLine("warning: --scale is ignored: --init-model continues with the start model's scaling");
            TrainingSpec spec = a.Spec(parse, options, start);
            if (IgnoredOptions.Typed(parse, a.Select) && !spec.IsPath)
                warnings.WriteLine("warning: --select is ignored: it scores the values of a search (several --C or --weight-decay values, or --cv)");
            DataFormatOptions.WarnIgnored(warnings, parse, spec.Data, spec.Format, a.Formats.Separator, a.Label);
            if (IgnoredOptions.Typed(parse, a.Sparse) && !DataSource.KindOf(spec.Data, spec.Format).IsLibSvmRows())
                warnings.WriteLine($"warning: --sparse is ignored: it applies to LIBSVM rows (a LIBSVM file, or a sparse .sgd file), and " +
                                   $"{spec.Data} is {DataSource.KindOf(spec.Data, spec.Format).Describe()}");
            using PreparedTraining training = spec.Prepare();
            foreach (string note in training.Notes)
                output.WriteLine(note);
            if (start is not null)
                output.WriteLine($"init: {parse.GetValue(a.InitModel)} ({start.K} classes, {start.D} features; its standardization is kept)");

            using Gpu gpu = OpenDevice(training, parse.GetValue(a.Device)!, output, error, ranks);
            if (gpu.Host && training.Engine is not null && IgnoredOptions.Typed(parse, a.DeviceMemory))
                warnings.WriteLine("warning: --device-memory is ignored: sparse rows on the host engine stay in host memory, " +
                                   "planned against what is available (it caps a device's memory, or a dense set's blocks)");
            var clock = Stopwatch.StartNew();
            SoftmaxModel trained;
            TrainResult result;
            using (var progress = new TrainingProgress(output, TrainingProgress.For(output, parse.GetValue(a.Quiet)),
                       first && logPath is not null ? outputs.Stage(logPath) : null))
            {
                if (spec.IsPath)
                {
                    progress.Search(spec.Cs?.Count ?? 1, spec.Folds ?? 1, spec.Score.Name(spec.MultiLabel), spec.Options.PathPenalty);
                    onFit = progress.Fit;
                }
                (trained, result) = progress.Run(onEpoch => training.Train(gpu, onEpoch));
                if (training.Path is PathResult folds)
                    progress.LogPath(folds);
            }
            if (first)
                Save(outputs, training.Path, trained, result, path, plotPath);
            if (training.Path is PathResult cv)
                TrainSummary.WritePath(output, warnings, cv, trained.Kind.IsMultiLabel());
            TrainSummary.Write(output, warnings, trained, result, path, clock.Elapsed);
            if (named is null)
                IgnoredOptions.Warn(warnings, result.Plan.Optimizer, auto: true, given, split);
            if (plotPath is not null && first)
                output.WriteLine($"plot: {plotPath}");
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The device to train on; where the data trains on an engine of its own (sparse rows), the line that says which
    /// runs it there, or the error (before any training) where it does not fit the device.
    /// </summary>
    private static Gpu OpenDevice(PreparedTraining training, string device, TextWriter output, TextWriter error, Distributed.ICommunicator ranks)
    {
        Gpu gpu = Ranked.OpenDevice(device, error, ranks);
        try
        {
            if (training.Engine is Func<Gpu, string> engine)
                output.WriteLine($"engine: {engine(gpu)}");
            return gpu;
        }
        catch
        {
            gpu.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The plot (--cv: the score against C; else the training curves) and the model, staged and moved into place
    /// together: a plot that fails leaves no model either.
    /// </summary>
    private static void Save(OutputPaths outputs, PathResult? cv, SoftmaxModel trained, TrainResult result, string path, string? plotPath)
    {
        if (plotPath is not null && cv is not null)
            Plots.CrossValidation(cv, trained.Kind.IsMultiLabel(), outputs.Stage(plotPath));
        else if (plotPath is not null)
            Plots.TrainingCurves(result.History, result.Plan.Optimizer.FullBatch ? "iteration" : "epoch", outputs.Stage(plotPath));
        ModelFile.Save(trained, outputs.Stage(path));
        outputs.Commit();
    }
}
