using System.Globalization;
using SoftmaxGpu.Model;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Cli;

/// <summary>What train prints when it is done: the objective, how the data went through the device, how it stopped, the model line.</summary>
public static class TrainSummary
{
    /// <summary>What was optimized and how it ended, then the model line; a run that hit its cap says so on <paramref name="error"/>.</summary>
    public static void Write(TextWriter output, TextWriter error, SoftmaxModel trained, TrainResult result, string path,
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
        WarnIfWorseThanZero(error, trained, result);
        output.WriteLine(ModelLine(trained, result, path, elapsed));
    }

    /// <summary>
    /// A model whose training loss is above that of all-zero weights — every class alike (ln K), every tag at ½ (K·ln 2),
    /// whatever the targets and weights — has diverged (a learning rate far too large): a warning, since it is written.
    /// </summary>
    private static void WarnIfWorseThanZero(TextWriter error, SoftmaxModel trained, TrainResult result)
    {
        double zero = trained.Kind.IsMultiLabel() ? trained.K * Math.Log(2) : Math.Log(trained.K);
        double loss = result.History[result.BestEpoch - 1].TrainLoss;
        if (loss > zero + 0.01)
            error.WriteLine($"warning: the training loss {loss:F4} is above {zero:F4}, the loss of all-zero weights " +
                            $"({(trained.Kind.IsMultiLabel() ? "every tag at 1/2" : "every class alike")}): the fit diverged" +
                            (result.Plan.Optimizer.FullBatch ? "" : "; lower --lr"));
    }

    /// <summary>
    /// The path's table: each value's (C or weight decay) mean score over the folds, their spread and the fits' iterations
    /// (a fit that stopped at the iteration cap marked *), the chosen value marked; then, on <paramref name="error"/>, how
    /// many fits hit the cap.
    /// </summary>
    public static void WritePath(TextWriter output, TextWriter error, PathResult path, bool multiLabel)
    {
        string score = path.Score.Name(multiLabel);
        string penalty = path.Penalty.Name();
        int folds = path.Points[0].Scores.Length; // 1: a validation set, whose one score has no spread
        string heading = (folds > 1 ? "mean " : "validation ") + score;
        int width = Math.Max(14, heading.Length);
        string[] values = Labels([.. path.Points.Select(p => p.Value)]);
        int valueWidth = Math.Max(12, values.Max(v => v.Length));
        output.WriteLine(folds > 1
            ? $"{penalty.PadRight(valueWidth)} {heading.PadLeft(width)} {"spread",8}  iterations per fold"
            : $"{penalty.PadRight(valueWidth)} {heading.PadLeft(width)}  iterations");
        foreach ((PathPoint point, string value) in path.Points.Zip(values))
            output.WriteLine($"{value.PadRight(valueWidth)} {$"{point.Mean:F4}".PadLeft(width)} {(folds > 1 ? $"{point.Spread,8:F4} " : "")} " +
                             string.Join(' ', point.Iterations.Select((n, fold) => point.Capped[fold] ? $"{n}*" : $"{n}")) +
                             (point.Value == path.Chosen ? "   <- chosen" : ""));
        output.WriteLine($"chosen: {penalty} = {path.Chosen:G6} ({(path.Score == PathScore.Accuracy ? "highest" : "lowest")} " +
                         (folds > 1 ? $"mean {score} over {folds} folds" : $"{score} on the validation rows") +
                         $"; {path.Penalty.AmongEquals()}), refit on every training row");
        PathPoint[] capped = [.. path.Points.Where(p => p.Capped.Any(c => c))];
        if (capped.Length > 0)
            error.WriteLine($"warning: {capped.Sum(p => p.Capped.Count(c => c))} of {path.Points.Count * folds} fits (marked *; " +
                            $"{penalty} = {string.Join(", ", capped.Select(p => p.Value.ToString("G4")))}) stopped at the iteration limit " +
                            $"before meeting their convergence rule; their scores may be off their optimum's (raise --epochs)");
    }

    /// <summary>
    /// The values as the table and the plot show them: 4 significant digits, or as many more as it takes to tell them apart
    /// (a range as close as 1:1.0001:4).
    /// </summary>
    public static string[] Labels(IReadOnlyList<double> values)
    {
        for (int digits = 4; ; digits++)
        {
            string[] labels = [.. values.Select(v => v.ToString($"G{digits}", CultureInfo.InvariantCulture))];
            if (digits >= 17 || labels.Distinct().Count() == labels.Length)
                return labels;
        }
    }

    private static string ModelLine(SoftmaxModel trained, TrainResult result, string path, TimeSpan elapsed)
    {
        EpochReport kept = result.History[result.BestEpoch - 1];
        return $"model: {path} ({trained.K} {(trained.Kind.IsMultiLabel() ? "tags" : "classes")}: {string.Join(", ", trained.Classes.Take(10))}" +
               $"{(trained.K > 10 ? ", …" : "")}; {trained.D} features); kept epoch {result.BestEpoch}" +
               (result.StoppedEarly ? " (stopped early)" : "") +
               (result.Objective is double j
                   ? $"; train loss {kept.TrainLoss:F4}, objective {j:F8}"
                   : $"; train loss {kept.TrainLoss:F4} (running mean over the epoch)") +
               (kept.ValLoss is double vl
                   ? $", validation loss {vl:F4}, {(trained.Kind.IsMultiLabel() ? "subset accuracy" : "accuracy")} {kept.ValAccuracy:F4}"
                   : "") +
               $"; {elapsed.TotalSeconds:F1} s";
    }
}
