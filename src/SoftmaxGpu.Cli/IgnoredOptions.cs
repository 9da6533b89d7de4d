using System.CommandLine;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Cli;

/// <summary>
/// train's options that would do nothing in the run as given: one "warning:" line on standard error for each one
/// the optimizer does not read (<see cref="OptimizerEntry.Reads"/>), and an error for --patience without validation
/// data, which could never stop early.
/// </summary>
public static class IgnoredOptions
{
    /// <summary>The options whose use depends on the optimizer; every other train option is read by every run.</summary>
    public static readonly string[] OptimizerOptions =
        ["--batch-size", "--lr", "--lr-schedule", "--patience", "--seed", "--momentum", "--nesterov"];

    /// <summary>The names of those of <paramref name="options"/> typed on the command line (not their defaults).</summary>
    public static string[] Given(ParseResult parse, params Option[] options) =>
        options.Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToArray();

    /// <summary>
    /// --patience watches the validation loss of a mini-batch fit: without --val or --val-fraction it is an error, not a
    /// no-op; and so it is in a search over C (<paramref name="choosing"/>), whose fits each run to their optimum.
    /// </summary>
    public static void RequireValidation(int patience, string? val, double? fraction, bool choosing)
    {
        if (patience > 0 && choosing)
            throw new ArgumentException("--patience stops a mini-batch fit early; choosing among values fits each to its optimum " +
                                        "with newton or lbfgs: leave out --patience");
        if (patience > 0 && val is null && fraction is null)
            throw new ArgumentException(
                "--patience stops when the validation loss stops falling: give validation data, --val FILE or --val-fraction F (e.g. 0.2)");
    }

    /// <summary>
    /// The <paramref name="given"/> options that <paramref name="optimizer"/> does not read; --seed is read anyway
    /// where it deals rows: --val-fraction's split or --cv's folds (<paramref name="split"/>).
    /// </summary>
    public static IEnumerable<string> By(OptimizerEntry optimizer, IEnumerable<string> given, bool split) =>
        given.Where(o => OptimizerOptions.Contains(o) && !optimizer.Reads.Contains(o) && !(o == "--seed" && split));

    /// <summary>One line each: "warning: --lr is ignored by lbfgs"; <paramref name="auto"/> says that auto chose it.</summary>
    public static void Warn(TextWriter error, OptimizerEntry optimizer, bool auto, IEnumerable<string> given, bool split)
    {
        foreach (string option in By(optimizer, given, split))
            error.WriteLine($"warning: {option} is ignored by {optimizer.Name}" + (auto ? " (chosen by --optimizer auto)" : "") +
                            (option == "--seed" ? " without --val-fraction or --cv" : ""));
    }
}
