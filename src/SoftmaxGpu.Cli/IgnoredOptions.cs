using System.CommandLine;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Cli;

/// <summary>
/// train's options that would do nothing in the run as given: one "warning:" line on standard error for each one
/// the optimizer does not read (<see cref="OptimizerEntry.Reads"/>). (--patience without validation data, which could
/// never stop early, is an error of the library's: <see cref="Capabilities"/>.)
/// </summary>
public static class IgnoredOptions
{
    /// <summary>The options whose use depends on the optimizer; every other train option is read by every run.</summary>
    public static readonly string[] OptimizerOptions =
        ["--batch-size", "--lr", "--lr-schedule", "--patience", "--seed", "--momentum", "--nesterov"];

    /// <summary>The names of those of <paramref name="options"/> typed on the command line (not their defaults).</summary>
    public static string[] Given(ParseResult parse, params Option[] options) =>
        options.Where(o => Typed(parse, o)).Select(o => o.Name).ToArray();

    /// <summary>Whether <paramref name="option"/> was typed on the command line (not its default).</summary>
    public static bool Typed(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

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
