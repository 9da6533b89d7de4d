using System.CommandLine;

namespace SoftmaxGpu.Cli;

/// <summary>
/// A text option that takes one of a few names, in any case (as the enum options do): the names are its completions,
/// which the help shows (&lt;auto|csv|libsvm&gt;) and a refusal lists (<see cref="ParseErrors"/>). System.CommandLine's
/// AcceptOnlyFromAmong takes them in their own case alone.
/// </summary>
public static class OptionChoices
{
    public static Option<string> AnyCaseOf(this Option<string> option, IReadOnlyList<string> names)
    {
        option.CompletionSources.Add([.. names]);
        option.Validators.Add(result =>
        {
            if (result.Tokens is [var token] && !names.Contains(token.Value, StringComparer.OrdinalIgnoreCase))
                result.AddError($"'{token.Value}' is not one of {string.Join(", ", names)}");
        });
        return option;
    }

    /// <summary>The name as the option's list spells it (--optimizer LBFGS → lbfgs).</summary>
    public static string Named(string given, IReadOnlyList<string> names) =>
        names.FirstOrDefault(n => string.Equals(n, given, StringComparison.OrdinalIgnoreCase)) ?? given;
}
