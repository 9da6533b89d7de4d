namespace SoftmaxGpu.Data;

/// <summary>
/// How a CSV file is read beyond its label column (<see cref="CsvRowReader"/>): the field separator, the columns
/// left out (train --ignore), and, for data a model runs on, which feature columns to read by name.
/// </summary>
public sealed record CsvOptions
{
    public const char DefaultSeparator = ',';

    public static readonly CsvOptions Default = new();

    /// <summary>--separator: ',' (default), ';' or a tab. Numbers are read with a decimal point either way.</summary>
    public char Separator { get; init; } = DefaultSeparator;

    /// <summary>
    /// Columns that are not read at all (--ignore): not features and never parsed, so they may hold text (an id, a
    /// name). A name the file does not have is skipped here; <see cref="CheckIgnore"/> makes it an error for the
    /// training file.
    /// </summary>
    public IReadOnlyList<string> Ignore { get; init; } = [];

    /// <summary>
    /// The feature columns to read, in this order (a model's, whatever their order in the file); every other column
    /// but the label is left unread (<see cref="CsvRowReader.Unused"/>), and one of these that the file lacks is an
    /// error. null: every column but the label and <see cref="Ignore"/>, in file order.
    /// </summary>
    public IReadOnlyList<string>? Features { get; init; }

    /// <summary>The separator an option value names: ",", ";", "tab" or "\t" (or a tab character), "|", or one other character.</summary>
    public static char ParseSeparator(string text, string option = "--separator") => text switch
    {
        "tab" or "\\t" or "\t" => '\t',
        { Length: 1 } when text[0] is not ('"' or '.' or '\r' or '\n') && !char.IsLetterOrDigit(text[0]) => text[0],
        _ => throw new ArgumentException($"{option} must be one character such as ',' ';' '|' or 'tab', got '{text}'"),
    };

    /// <summary>A separator as the user would type it back: "tab" or the character in quotes.</summary>
    public static string Describe(char separator) => separator == '\t' ? "tab" : $"'{separator}'";

    /// <summary>Every --ignore name must be a column of <paramref name="path"/>: a typo is an error listing the columns.</summary>
    public void CheckIgnore(string path)
    {
        if (Ignore.Count == 0)
            return;
        string[] header = CsvRowReader.Header(path, this);
        string[] absent = Ignore.Where(name => !header.Contains(name, StringComparer.Ordinal)).ToArray();
        if (absent.Length > 0)
            throw new DataFormatException(
                $"{path}: --ignore names no column {string.Join(", ", absent.Select(a => $"'{a}'"))}; the columns are: {string.Join(", ", header)}");
    }
}
