using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using SoftmaxGpu.Data;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Cli;

/// <summary>
/// How <c>train</c> shows its epochs: one live line on a terminal (Spectre.Console), at most about
/// <see cref="MaxLines"/> evenly spaced lines when the output is a file or a pipe, nothing with --quiet; and,
/// with --log-json, one JSON object per epoch (iteration) in a file, whatever the console shows. A search over C
/// shows its fits as they end (<see cref="Fit"/>): a line a C once every fold has fitted it, or on the live line.
/// </summary>
public sealed class TrainingProgress : IDisposable
{
    /// <summary>Epoch lines printed at most (plus the last) when the output is not a terminal.</summary>
    public const int MaxLines = 20;

    private readonly TextWriter output;
    private readonly Mode mode;
    private readonly StreamWriter? log;
    private EpochReport? unprinted;
    private readonly Lock searching = new(); // Fit is called from the folds' threads
    private ProgressTask? live; // the live line, while Run runs in Live mode
    private SearchState? search; // set by Search

    /// <summary>A search's fits so far: each value's fold fits in, and the next value to print.</summary>
    private sealed class SearchState(int values, int folds, string score, string penalty)
    {
        public readonly int Values = values, Folds = folds;
        public readonly string Score = score, Penalty = penalty;
        public readonly List<PathFit>[] Fits = [.. Enumerable.Range(0, values).Select(_ => new List<PathFit>())];
        public readonly System.Diagnostics.Stopwatch Clock = System.Diagnostics.Stopwatch.StartNew();
        public int Printed, Done;
    }

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
        log = logPath is null ? null
            : new StreamWriter(AtomicFile.OpenInPlace(logPath) ?? new FileStream(logPath, FileMode.Create, FileAccess.Write)) { AutoFlush = true };
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
                lock (searching)
                    live = task;
                result = train(report =>
                {
                    Log(report);
                    task.Description = Markup.Escape(LiveLine(report));
                    task.MaxValue = report.Epochs;
                    task.Value = report.Epoch;
                });
            });
        lock (searching)
            live = null;
        return result;
    }

    /// <summary>The search that <see cref="Fit"/> will report: <paramref name="values"/> values of <paramref name="penalty"/> (C, or
    /// weight decay), each fitted on <paramref name="folds"/> folds (1: a validation set), scored by <paramref name="score"/>.</summary>
    public void Search(int values, int folds, string score, PathPenalty penalty = PathPenalty.C) =>
        search = new SearchState(values, folds, score, penalty.Name());

    /// <summary>
    /// One fit of the search ended (from any fold's thread): in lines, each C's line as soon as every fold has fitted it
    /// and every smaller C is printed (the folds run at their own pace); on a terminal, the fits done on the live line.
    /// </summary>
    public void Fit(PathFit fit)
    {
        lock (searching)
        {
            if (search is not { } s || mode == Mode.Quiet)
                return;
            s.Fits[fit.Index].Add(fit);
            s.Done++;
            if (mode == Mode.Live && live is not null)
            {
                live.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                    $"choosing {s.Penalty}: {s.Done} of {s.Values * s.Folds} fits, {s.Penalty} = {fit.Value:G4} on fold {fit.Fold + 1}"));
                (live.MaxValue, live.Value) = (s.Values * s.Folds, s.Done);
                return;
            }
            for (; s.Printed < s.Values && s.Fits[s.Printed].Count == s.Folds; s.Printed++)
                output.WriteLine(SearchLine(s, s.Fits[s.Printed]));
        }
    }

    /// <summary>A C whose folds are all fitted: its mean score, the folds' iterations, the fits that hit the cap, the time so far.</summary>
    private static string SearchLine(SearchState s, List<PathFit> fits)
    {
        PathFit first = fits[0];
        (int fewest, int most) = (fits.Min(f => f.Iterations), fits.Max(f => f.Iterations));
        string iterations = fewest == most ? $"{most}" : $"{fewest}–{most}";
        int capped = fits.Count(f => !f.Converged);
        string scored = s.Folds == 1
            ? string.Create(CultureInfo.InvariantCulture, $"{s.Score} {first.Score:F4} on the validation set")
            : string.Create(CultureInfo.InvariantCulture, $"mean {s.Score} {fits.OrderBy(f => f.Fold).Average(f => f.Score):F4} over {s.Folds} folds");
        return string.Create(CultureInfo.InvariantCulture,
            $"path: {s.Penalty} = {first.Value:G4} ({first.Index + 1} of {s.Values})  {scored}, " +
            $"{iterations} iterations{(capped > 0 ? $" ({capped} at the cap)" : "")}  {s.Clock.Elapsed.TotalSeconds:F1} s");
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

    /// <summary>With --log-json and --cv: one object per (C or weight decay, fold), after the refit's epochs.</summary>
    public void LogPath(PathResult path)
    {
        if (log is null)
            return;
        string score = path.Score == PathScore.Accuracy ? "accuracy" : "log_loss";
        foreach (PathPoint point in path.Points)
            for (int fold = 0; fold < point.Scores.Length; fold++)
                log.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    // A weight decay as the fits took it, in float (0.001, not its float64 widening 0.0010000000474974513).
                    [path.Penalty == PathPenalty.C ? "C" : "weight_decay"] = path.Penalty == PathPenalty.C ? point.Value : (object)(float)point.Value,
                    ["fold"] = fold + 1,
                    ["val_" + score] = point.Scores[fold],
                    ["objective"] = double.IsNaN(point.Objectives[fold]) ? null : point.Objectives[fold],
                    ["iterations"] = point.Iterations[fold],
                    ["converged"] = !point.Capped[fold],
                    ["chosen"] = point.Value == path.Chosen,
                }));
    }

    public void Dispose() => log?.Dispose();
}
