using CsvHelper;

namespace SoftmaxGpu.Data;

/// <summary>
/// A CSV file with a header row, one data row at a time: the label column (by name, default the last) holds
/// class labels as text or integers; every other column must be a finite number. Any problem stops the read
/// with the file, line, column and what was expected. <see cref="CsvTableReader"/> (whole table) and
/// <see cref="SgdConverter"/> (streaming to a .sgd file) both read through it, so both say the same.
/// </summary>
public sealed class CsvRowReader : IRowReader, IDisposable
{
    private readonly CsvReader csv;
    private readonly string[] header;
    private readonly int labelAt; // == header.Length when there is no label column
    private readonly bool emptyLabels;

    /// <param name="labelOptional">Predict-time data: without a column named <paramref name="labelColumn"/>, every
    /// column is a feature and the labels are empty.</param>
    /// <param name="emptyLabels">An empty label is a value (a multi-label row without tags), not a missing one.</param>
    public CsvRowReader(string path, string? labelColumn = null, bool labelOptional = false, bool emptyLabels = false)
    {
        this.emptyLabels = emptyLabels;
        if (!File.Exists(path))
            throw new DataFormatException($"{path}: file not found");
        Path = path;

        var options = new CsvReaderOptions
        {
            Separator = ',',
            HasHeader = true,
            TrimWhitespace = true,
            TrackLineNumbers = true, // error messages name the line
            PoolStrings = true, // labels repeat: one string per class, not per row
            FieldCountMismatch = CsvFieldCountHandling.Allow, // checked in Next, with a better message
        };
        csv = CsvReader.FromFile(path, options);
        try
        {
            csv.ReadHeader();
            header = csv.Headers.ToArray();
            labelAt = ResolveLabel(path, header, labelColumn, labelOptional);
        }
        catch
        {
            csv.Dispose();
            throw;
        }
        FeatureNames = header.Where((_, i) => i != labelAt).ToArray();
        LabelName = HasLabel ? header[labelAt] : "";
    }

    /// <summary>The label column to pass, with labelOptional, for "no label column: every column is a feature".</summary>
    public const string AllFeatures = "";

    public string Path { get; }
    public string[] FeatureNames { get; }
    /// <summary>The label column's name, or "" when an optional label column is absent.</summary>
    public string LabelName { get; }
    public bool HasLabel => labelAt < header.Length;
    /// <summary>D: features per row.</summary>
    public int Dim => FeatureNames.Length;
    /// <summary>Data rows read so far.</summary>
    public long RowsRead { get; private set; }

    private static int ResolveLabel(string path, string[] header, string? labelColumn, bool labelOptional)
    {
        if (header.All(h => h.Length == 0))
            throw new DataFormatException($"{path}: the file is empty; expected a header row and data rows");
        if (header.Length < (labelOptional ? 1 : 2))
            throw new DataFormatException(
                $"{path}: line 1: the header has {header.Length} column; expected at least one feature and a label");

        if (labelOptional && labelColumn == AllFeatures)
            return header.Length;
        int at = labelColumn is null ? header.Length - 1 : Array.IndexOf(header, labelColumn);
        if (at < 0 && labelOptional)
            return header.Length; // no label column: all columns are features
        if (at < 0)
            throw new DataFormatException(
                $"{path}: --label '{labelColumn}' names no column; the columns are: {string.Join(", ", header)}");
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

        int j = 0;
        for (int c = 0; c < header.Length; c++)
        {
            if (c == labelAt)
                continue;
            if (!FloatText.TryParse(csv.GetSpan(c), out float value))
                throw DataFormatException.At(Path, line, $"{c + 1} ('{header[c]}')",
                    $"'{csv.GetString(c)}' is not a number; every column but the label must be numeric");
            if (!float.IsFinite(value))
                throw DataFormatException.At(Path, line, $"{c + 1} ('{header[c]}')",
                    $"'{csv.GetString(c)}' is not a finite number (NaN, infinity or beyond float range)");
            features[j++] = value;
        }

        if (!HasLabel)
            return "";
        string label = csv.GetString(labelAt);
        if (label.Length == 0 && !emptyLabels)
            throw DataFormatException.At(Path, line, $"{labelAt + 1} ('{header[labelAt]}')", "the label is missing");
        return label;
    }

    /// <summary>The error for a file that ended without a data row.</summary>
    public DataFormatException NoRows() => new($"{Path}: the header has no data rows under it");

    public void Dispose() => csv.Dispose();
}
