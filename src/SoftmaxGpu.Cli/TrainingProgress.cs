using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Cli;

/// <summary>
/// How <c>train</c> shows its epochs: one live line on a terminal (Spectre.Console), at most about
/// <see cref="MaxLines"/> evenly spaced lines when the output is a file or a pipe, nothing with --quiet; and,
/// with --log-json, one JSON object per epoch (iteration) in a file, whatever the console shows.
/// </summary>
public sealed class TrainingProgress : IDisposable
{
    /// <summary>Epoch lines printed at most (plus the last) when the output is not a terminal.</summary>
    public const int MaxLines = 20;

    private readonly TextWriter output;
    private readonly Mode mode;
    private readonly StreamWriter? log;
    private EpochReport? unprinted;

    public enum Mode
    {
        Live,
        Lines,
        Quiet,
    }

    public TrainingProgress(TextWriter output, Mode mode, string? logPath)
    {
        this.output = output;
        this.mode = mode;
        log = logPath is null ? null : new StreamWriter(logPath, append: false) { AutoFlush = true };
    }

    /// <summary>Live where the output is this process's own terminal, lines otherwise, nothing when quiet.</summary>
    public static Mode For(TextWriter output, bool quiet) =>
        quiet ? Mode.Quiet
        : ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive
            ? Mode.Live
            : Mode.Lines;

    /// <summary>Runs <paramref name="train"/>, giving it the callback that shows each epoch.</summary>
    public T Run<T>(Func<Action<EpochReport>, T> train)
    {
        if (mode != Mode.Live)
        {
            T done = train(Report);
            if (unprinted is not null) // the last epoch, when the stride skipped it
                output.WriteLine(Line(unprinted));
            return done;
        }
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new SpinnerColumn(), new TaskDescriptionColumn { Alignment = Justify.Left }, new ElapsedTimeColumn())
            .Start(context =>
            {
                ProgressTask task = context.AddTask("starting", maxValue: 1);
                result = train(report =>
                {
                    Log(report);
                    task.Description = Markup.Escape(LiveLine(report));
                    task.MaxValue = report.Epochs;
                    task.Value = report.Epoch;
                });
            });
        return result;
    }

    private void Report(EpochReport report)
    {
        Log(report);
        int stride = Math.Max(1, (report.Epochs + MaxLines - 1) / MaxLines);
        if (mode != Mode.Lines)
            return;
        bool printed = report.Epoch == 1 || report.Epoch % stride == 0 || report.Epoch == report.Epochs;
        if (printed)
            output.WriteLine(Line(report));
        unprinted = printed ? null : report;
    }

    /// <summary>One epoch as a line of the plain output.</summary>
    public static string Line(EpochReport r)
    {
        string width = r.Epochs.ToString(CultureInfo.InvariantCulture);
        string epoch = r.Epoch.ToString(CultureInfo.InvariantCulture).PadLeft(width.Length);
        string val = r.ValLoss is double vl ? $"  val loss {vl:F4}  acc {r.ValAccuracy:F4}" : "";
        string objective = r.Objective is double j ? $"  objective {j:F6}" : "";
        return $"epoch {epoch}/{width}  train loss {r.TrainLoss:F4}  acc {r.TrainAccuracy:F4}{objective}{val}  {r.Elapsed.TotalSeconds:F2} s";
    }

    /// <summary>The live line: the epoch, losses, rows read per second, and the time left at this rate.</summary>
    private static string LiveLine(EpochReport r)
    {
        double seconds = Math.Max(r.Elapsed.TotalSeconds, 1e-9);
        double left = seconds / r.Epoch * (r.Epochs - r.Epoch);
        string val = r.ValLoss is double vl ? $"  val loss {vl:F4}" : "";
        return $"epoch {r.Epoch}/{r.Epochs}  loss {r.TrainLoss:F4}{val}  {r.RowsRead / seconds:N0} rows/s  " +
               $"at most {TimeSpan.FromSeconds(Math.Round(left)):g} left";
    }

    private void Log(EpochReport r)
    {
        if (log is null)
            return;
        log.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["epoch"] = r.Epoch,
            ["epochs"] = r.Epochs,
            ["train_loss"] = r.TrainLoss,
            ["train_accuracy"] = r.TrainAccuracy,
            ["val_loss"] = r.ValLoss,
            ["val_accuracy"] = r.ValAccuracy,
            ["objective"] = r.Objective,
            ["rows_read"] = r.RowsRead,
            ["elapsed_s"] = r.Elapsed.TotalSeconds,
        }));
    }

    /// <summary>With --log-json and --cv: one object per (C, fold), after the refit's epochs.</summary>
    public void LogPath(PathResult path)
    {
        if (log is null)
            return;
        string score = path.Score == PathScore.Accuracy ? "accuracy" : "log_loss";
        foreach (PathPoint point in path.Points)
            for (int fold = 0; fold < point.Scores.Length; fold++)
                log.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["C"] = point.C,
                    ["fold"] = fold + 1,
                    ["val_" + score] = point.Scores[fold],
                    ["objective"] = double.IsNaN(point.Objectives[fold]) ? null : point.Objectives[fold],
                    ["iterations"] = point.Iterations[fold],
                    ["converged"] = !point.Capped[fold],
                    ["chosen"] = point.C == path.ChosenC,
                }));
    }

    public void Dispose() => log?.Dispose();
}
