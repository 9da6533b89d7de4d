using System.Text.RegularExpressions;
using CsvHelper;

namespace SoftmaxGpu.Data;

/// <summary>
/// A CSV file with a header row, one data row at a time: the label column (by name, default the last) holds
/// class labels as text or integers; every feature column must be a finite number. Which columns are features is
/// <see cref="CsvOptions"/>' choice: every other column but those ignored, or a model's by name (in its order, the
/// rest unread). Any problem stops the read with the file, line, column and what was expected. <see cref="CsvTableReader"/> (whole table) and
/// <see cref="SgdConverter"/> (streaming to a .sgd file) both read through it, so both say the same.
/// </summary>
public sealed partial class CsvRowReader : IRowReader, IDisposable
{
    private readonly CsvReader csv;
    private readonly string[] header;
    private readonly int labelAt; // == header.Length when there is no label column
    private readonly int[] featureAt; // [D]: the file column of each feature
    private readonly bool emptyLabels;
    private readonly char separator;

    /// <param name="labelOptional">Predict-time data: without a column named <paramref name="labelColumn"/>, every
    /// column is a feature and the labels are empty.</param>
    /// <param name="emptyLabels">An empty label is a value (a multi-label row without tags), not a missing one.</param>
    /// <param name="columns">The separator and which columns are features (default: ',' and every column but the label).</param>
    public CsvRowReader(string path, string? labelColumn = null, bool labelOptional = false, bool emptyLabels = false,
        CsvOptions? columns = null)
    {
        this.emptyLabels = emptyLabels;
        columns ??= CsvOptions.Default;
        separator = columns.Separator;
        if (!File.Exists(path))
            throw new DataFormatException($"{path}: file not found");
        Path = path;

        csv = Open(path, columns.Separator);
        try
        {
            csv.ReadHeader();
            header = csv.Headers.ToArray();
            CheckSeparator(path, header, separator);
            CheckNames(path, header);
            labelAt = ResolveLabel(path, header, labelColumn, labelOptional, columns.Ignore);
            featureAt = ResolveFeatures(path, header, labelAt, columns);
        }
        catch
        {
            csv.Dispose();
            throw;
        }
        FeatureNames = featureAt.Select(c => header[c]).ToArray();
        LabelName = HasLabel ? header[labelAt] : "";
        Unused = Enumerable.Range(0, header.Length).Where(c => c != labelAt && !featureAt.Contains(c)).Select(c => header[c]).ToArray();
    }

    private static CsvReader Open(string path, char separator) => CsvReader.FromFile(path, new CsvReaderOptions
    {
        Separator = separator,
        HasHeader = true,
        TrimWhitespace = true,
        TrackLineNumbers = true, // error messages name the line
        PoolStrings = true, // labels repeat: one string per class, not per row
        FieldCountMismatch = CsvFieldCountHandling.Allow, // checked in Next, with a better message
    });

    /// <summary>The header row of a CSV file: its column names.</summary>
    public static string[] Header(string path, CsvOptions? columns = null)
    {
        if (!File.Exists(path))
            throw new DataFormatException($"{path}: file not found");
        using CsvReader reader = Open(path, (columns ?? CsvOptions.Default).Separator);
        reader.ReadHeader();
        return reader.Headers.ToArray();
    }

    /// <summary>The label column to pass, with labelOptional, for "no label column: every column is a feature".</summary>
    public const string AllFeatures = "";

    public string Path { get; }
    public string[] FeatureNames { get; }
    /// <summary>The label column's name, or "" when an optional label column is absent.</summary>
    public string LabelName { get; }
    public bool HasLabel => labelAt < header.Length;
    /// <summary>Columns of the file read neither as features nor as the label: ignored, or not among a model's features.</summary>
    public string[] Unused { get; }
    /// <summary>D: features per row.</summary>
    public int Dim => FeatureNames.Length;
    /// <summary>Data rows read so far.</summary>
    public long RowsRead { get; private set; }

    /// <summary>The label's column: by name, or the last column that is not ignored; header.Length for none.</summary>
    private static int ResolveLabel(string path, string[] header, string? labelColumn, bool labelOptional, IReadOnlyList<string> ignore)
    {
        if (header.All(h => h.Length == 0))
            throw new DataFormatException($"{path}: the file is empty; expected a header row and data rows");
        if (header.Length < (labelOptional ? 1 : 2))
            throw new DataFormatException(
                $"{path}: line 1: the header has {header.Length} column; expected at least one feature and a label");

        if (labelOptional && labelColumn == AllFeatures)
            return header.Length;
        int at = labelColumn is null
            ? Array.FindLastIndex(header, h => !ignore.Contains(h, StringComparer.Ordinal))
            : Array.IndexOf(header, labelColumn);
        if (at < 0 && labelOptional)
            return header.Length; // no label column: all columns are features
        if (at < 0 && labelColumn is null)
            throw new DataFormatException($"{path}: --ignore leaves no column for the label; the columns are: {string.Join(", ", header)}");
        if (at < 0)
            throw new DataFormatException(
                $"{path}: no column named '{labelColumn}' for the labels (--label names it; a model knows its own); the columns are: {string.Join(", ", header)}");
        return at;
    }

    /// <summary>
    /// The text of one column, row by row, as the file holds it (predict --id-column carries it beside each
    /// prediction). The column is checked now, the rows read as they are enumerated.
    /// </summary>
    public static IEnumerable<string> Column(string path, string column, CsvOptions? columns = null)
    {
        string[] header = Header(path, columns);
        int at = Array.IndexOf(header, column);
        if (at < 0)
            throw new DataFormatException($"{path}: --id-column '{column}' names no column; the columns are: {string.Join(", ", header)}");
        return ReadColumn(path, at, (columns ?? CsvOptions.Default).Separator);
    }

    private static IEnumerable<string> ReadColumn(string path, int at, char separator)
    {
        using CsvReader reader = Open(path, separator);
        reader.ReadHeader();
        while (reader.Read())
            yield return at < reader.FieldCount ? reader.GetString(at) : "";
    }

    /// <summary>
    /// A header of one column that holds ';' or a tab, or that reads as a LIBSVM line, is a file read with the
    /// wrong separator or format: an error that says which option reads it.
    /// </summary>
    private static void CheckSeparator(string path, string[] header, char separator)
    {
        if (header.Length != 1)
            return;
        string only = header[0];
        string? hint = LibSvmLine().IsMatch(only) ? "it looks like LIBSVM ('label index:value ...'): give --format libsvm"
            : separator != ';' && only.Contains(';') ? $"it holds ';': give --separator ';' ({DecimalPoint})"
            : separator != '\t' && only.Contains('\t') ? $"it holds tabs: give --separator tab ({DecimalPoint})"
            : null;
        if (hint is not null)
            throw new DataFormatException(
                $"{path}: line 1: the header is one column when split at {CsvOptions.Describe(separator)} ('{Shorten(only)}'); {hint}");
    }

    /// <summary>
    /// Two columns of one name: an error, since a model reads its features by name (the first of the two would be read
    /// for both). Where the name is a number, the first line is likely data: the message says so.
    /// </summary>
    private static void CheckNames(string path, string[] header)
    {
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int c = 0; c < header.Length; c++)
        {
            if (header[c].Length == 0)
                continue;
            if (first.TryAdd(header[c], c))
                continue;
            string hint = LooksLikeData(header[c]) ? "; is the first line data? The file needs a header row of column names" : "";
            throw new DataFormatException(
                $"{path}: line 1: columns {first[header[c]] + 1} and {c + 1} are both named '{Shorten(header[c])}'; each column needs " +
                $"a name of its own{hint}");
        }
    }

    /// <summary>
    /// Whether a column name reads as a number, as a data row's values do: a sign of a CSV file without a header row, whose
    /// first row was taken for the names.
    /// </summary>
    public static bool LooksLikeData(string name) =>
        double.TryParse(name, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _);

    [GeneratedRegex(@"^\S+(\s+\d+:\S+)+\s*$")]
    private static partial Regex LibSvmLine();

    private const string DecimalPoint = "numbers must still use a decimal point: decimal commas are not supported";

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    /// <summary>The file column of each feature: the options' names in their order, or every column but the label and the ignored.</summary>
    private static int[] ResolveFeatures(string path, string[] header, int labelAt, CsvOptions columns)
    {
        if (labelAt < header.Length && columns.Ignore.Contains(header[labelAt]))
            throw new DataFormatException($"{path}: --ignore names the label column '{header[labelAt]}'");
        if (columns.Features is null)
        {
            int[] every = Enumerable.Range(0, header.Length)
                .Where(c => c != labelAt && !columns.Ignore.Contains(header[c], StringComparer.Ordinal)).ToArray();
            return every.Length > 0 || header.Length == 1 ? every
                : throw new DataFormatException($"{path}: --ignore leaves no feature column; the columns are: {string.Join(", ", header)}");
        }
        int[] at = columns.Features.Select(name => Array.IndexOf(header, name)).ToArray();
        string[] missing = columns.Features.Where((_, j) => at[j] < 0 || at[j] == labelAt).ToArray();
        if (missing.Length > 0)
            throw new DataFormatException(
                $"{path}: the model's feature column(s) {string.Join(", ", missing.Take(10).Select(m => $"'{m}'"))}" +
                (missing.Length > 10 ? $" … ({missing.Length})" : "") +
                $" are not in the file; the model reads {columns.Features.Count}, and the file's columns are: {string.Join(", ", header)}");
        return at;
    }

    /// <summary>
    /// Reads the next data row: its D features into <paramref name="features"/> and its label text (""
    /// without a label column). False at the end of the file.
    /// </summary>
    public bool Next(Span<float> features, out string label)
    {
        label = "";
        if (!csv.Read())
            return false;
        label = Parse(features);
        RowsRead++;
        return true;
    }

    // The current record: its features into the span; the label returned.
    private string Parse(Span<float> features)
    {
        long line = csv.LineNumber;
        if (csv.FieldCount != header.Length)
            throw new DataFormatException(
                $"{Path}: line {line}: {csv.FieldCount} fields; expected {header.Length} as in the header");

        for (int j = 0; j < featureAt.Length; j++)
        {
            int c = featureAt[j];
            if (!FloatText.TryParse(csv.GetSpan(c), out float value))
                throw DataFormatException.At(Path, line, $"{c + 1} ('{header[c]}')", NotANumber(csv.GetString(c)));
            if (!float.IsFinite(value))
                throw DataFormatException.At(Path, line, $"{c + 1} ('{header[c]}')",
                    $"'{csv.GetString(c)}' is not a finite number (NaN, infinity or beyond float range)");
            features[j] = value;
        }

        if (!HasLabel)
            return "";
        string label = csv.GetString(labelAt);
        if (label.Length == 0 && !emptyLabels)
            throw DataFormatException.At(Path, line, $"{labelAt + 1} ('{header[labelAt]}')", "the label is missing");
        return label;
    }

    private string NotANumber(string text) =>
        $"'{text}' is not a number; every column but the label must be numeric (train --ignore NAME leaves a text column out)" +
        (separator != ',' && text.Contains(',') ? "; decimal commas are not supported: write 1.5, not 1,5" : "");

    /// <summary>The error for a file that ended without a data row.</summary>
    public DataFormatException NoRows() => new($"{Path}: the header has no data rows under it");

    public void Dispose() => csv.Dispose();
}
