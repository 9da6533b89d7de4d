using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Parsing;
using Quickenshtein;

namespace SoftmaxGpu.Cli;

/// <summary>
/// A command line that does not parse, told in one line on standard error, as every other failure is:
/// <c>error: --epochs: 'five' is not a whole number</c> or <c>error: unknown option '--epoch'; did you mean
/// --epochs?</c>, then <c>see: softmaxgpu train --help</c>; exit code 1. Only the first problem is told (the missing
/// required options together), in the user's words: option names and values, never .NET type names, and no help dump.
/// </summary>
public static class ParseErrors
{
    /// <summary>A name within this many edits (one for a name of up to 3 letters) is offered as "did you mean".</summary>
    private const int MaxTypoEdits = 2;

    /// <summary>Writes the error and the see line to <paramref name="error"/>; returns the exit code, 1.</summary>
    public static int Report(ParseResult parse, TextWriter error)
    {
        error.WriteLine($"error: {Describe(parse)}");
        error.WriteLine($"see: {CommandPath(parse.CommandResult)} --help");
        return 1;
    }

    /// <summary>The first problem of a command line with <see cref="ParseResult.Errors"/>, without "error: ".</summary>
    public static string Describe(ParseResult parse)
    {
        if (parse.UnmatchedTokens.Count > 0)
            return Unmatched(parse.CommandResult, parse.UnmatchedTokens[0]);
        foreach (ParseError e in parse.Errors)
        {
            // A required option that is absent has an error on an OptionResult too, with no "--name" token.
            OptionResult? option = e.SymbolResult as OptionResult ?? e.SymbolResult?.Parent as OptionResult;
            if (option is { IdentifierTokenCount: > 0 })
                return BadValue(option, e);
            // A command's arguments (bench's shapes) take any token, a mistyped option too.
            if (e.SymbolResult is ArgumentResult { Parent: CommandResult owner } arguments &&
                arguments.Tokens.FirstOrDefault(t => t.Value.StartsWith('-')) is { } token)
                return Unmatched(owner, token.Value);
        }
        Command command = parse.CommandResult.Command;
        string[] missing = command.Options
            .Where(o => o.Required && parse.GetResult(o) is not OptionResult { IdentifierTokenCount: > 0 })
            .Select(o => o.Name).ToArray();
        if (missing.Length > 0)
            return $"{command.Name} needs {Listed(missing, "and")}";
        if (command.Subcommands.Count > 0 && command.Action is null)
            return $"no command given; one of: {string.Join(", ", command.Subcommands.Select(c => c.Name))}";
        return FirstLine(parse.Errors[0].Message);
    }

    /// <summary>A token that no option or command of <paramref name="result"/>'s command took.</summary>
    private static string Unmatched(CommandResult result, string token)
    {
        Command command = result.Command;
        if (token.StartsWith('-'))
            return $"unknown option '{token}'{DidYouMean(token, OptionsOf(result).SelectMany(o => o.Aliases.Prepend(o.Name)))}";
        if (command.Subcommands.Count > 0 && command.Arguments.Count == 0)
            return $"unknown command '{token}'{DidYouMean(token, command.Subcommands.Select(c => c.Name))}";
        return $"unexpected argument '{token}' ({command.Name} takes options only, each --name value)";
    }

    /// <summary>An option given without a value, or with one it cannot take.</summary>
    private static string BadValue(OptionResult option, ParseError e)
    {
        string name = option.Option.Name;
        string? expected = Expected(option.Option);
        if (option.Tokens.Count == 0)
            return expected is null ? $"{name}: needs a value" : $"{name}: needs a value ({expected})";
        if (option.Tokens.Count > 1 && option.Option.Arity.MaximumNumberOfValues == 1)
            return $"{name} is given {option.IdentifierTokenCount} times ({string.Join(", ", option.Tokens.Select(t => t.Value))}); give it once";
        return expected is null
            ? $"{name}: {FirstLine(e.Message)}"
            : $"{name}: '{option.Tokens[^1].Value}' is not {expected}";
    }

    /// <summary>What an option takes, in words; null for free text.</summary>
    public static string? Expected(Option option)
    {
        Type type = Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;
        // An enum's values as they are typed (and parsed, ignoring case): auto, off, on rather than Auto, Off, On.
        string[] allowed = type == typeof(bool) ? []
            : option.GetCompletions(CompletionContext.Empty).Select(c => type.IsEnum ? c.Label.ToLowerInvariant() : c.Label).ToArray();
        if (allowed.Length > 0)
            return $"one of {Listed(allowed, "or")}";
        return Type.GetTypeCode(type) switch
        {
            TypeCode.Byte or TypeCode.SByte or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32
                or TypeCode.Int64 or TypeCode.UInt64 => "a whole number",
            TypeCode.Single or TypeCode.Double or TypeCode.Decimal => "a number",
            TypeCode.Boolean => "true or false",
            _ => null,
        };
    }

    /// <summary>"; did you mean --epochs?" when one name is within <see cref="MaxTypoEdits"/> edits, else "".</summary>
    private static string DidYouMean(string typed, IEnumerable<string> names)
    {
        int allowed = typed.TrimStart('-').Length <= 3 ? 1 : MaxTypoEdits;
        string[] close = names.Distinct()
            .Select(name => (Name: name, Edits: Levenshtein.GetDistance(typed, name)))
            .Where(c => c.Edits <= allowed)
            .OrderBy(c => c.Edits).ThenBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => c.Name).Take(3).ToArray();
        return close.Length == 0 ? "" : $"; did you mean {Listed(close, "or")}?";
    }

    /// <summary>The command's options and its parents' recursive ones (--help, given once at the root).</summary>
    private static IEnumerable<Option> OptionsOf(CommandResult result)
    {
        IEnumerable<Option> options = result.Command.Options;
        for (SymbolResult? at = result.Parent; at is not null; at = at.Parent)
        {
            if (at is CommandResult parent)
                options = options.Concat(parent.Command.Options.Where(o => o.Recursive));
        }
        return options;
    }

    /// <summary>"softmaxgpu train": the command's names from the root.</summary>
    private static string CommandPath(CommandResult command)
    {
        var names = new Stack<string>();
        for (SymbolResult? at = command; at is not null; at = at.Parent)
        {
            if (at is CommandResult c)
                names.Push(c.Command.Name);
        }
        return string.Join(' ', names);
    }

    private static string Listed(IReadOnlyList<string> items, string conjunction) =>
        items.Count == 1 ? items[0] : $"{string.Join(", ", items.Take(items.Count - 1))} {conjunction} {items[^1]}";

    private static string FirstLine(string message) => message.Split('\n')[0].TrimEnd('\r');
}
