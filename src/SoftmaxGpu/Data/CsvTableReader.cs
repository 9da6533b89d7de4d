using System.Globalization;
using CsvHelper;

namespace SoftmaxGpu.Data;

/// <summary>
/// Reads a CSV file with a header row: the label column (by name, default the last) holds class labels as
/// text or integers; every other column must be a finite number. Any problem stops the read with the file,
/// line, column and what was expected.
/// </summary>
public static class CsvTableReader
{
    /// <param name="labelOptional">Predict-time data: without a column named <paramref name="labelColumn"/>, every
    /// column is a feature and the labels are empty.</param>
    public static Table Read(string path, string? labelColumn = null, bool labelOptional = false)
    {
        if (!File.Exists(path))
            throw new DataFormatException($"{path}: file not found");

        var options = new CsvReaderOptions
        {
            Separator = ',',
            HasHeader = true,
            TrimWhitespace = true,
            TrackLineNumbers = true, // error messages name the line
            FieldCountMismatch = CsvFieldCountHandling.Allow, // checked below, with a better message
        };
        using CsvReader csv = CsvReader.FromFile(path, options);

        csv.ReadHeader();
        string[] header = csv.Headers.ToArray();
        if (header.All(h => h.Length == 0))
            throw new DataFormatException($"{path}: the file is empty; expected a header row and data rows");
        if (header.Length < (labelOptional ? 1 : 2))
            throw new DataFormatException(
                $"{path}: line 1: the header has {header.Length} column; expected at least one feature and a label");

        int labelAt = labelColumn is null ? header.Length - 1 : Array.IndexOf(header, labelColumn);
        if (labelAt < 0 && labelOptional)
            labelAt = header.Length; // no label column: all columns are features
        else if (labelAt < 0)
            throw new DataFormatException(
                $"{path}: --label '{labelColumn}' names no column; the columns are: {string.Join(", ", header)}");
        string[] featureNames = header.Where((_, i) => i != labelAt).ToArray();

        var features = new List<float>();
        var labels = new List<string>();
        while (csv.Read())
        {
            long line = csv.LineNumber;
            if (csv.FieldCount != header.Length)
                throw new DataFormatException(
                    $"{path}: line {line}: {csv.FieldCount} fields; expected {header.Length} as in the header");

            for (int c = 0; c < header.Length; c++)
            {
                if (c == labelAt)
                    continue;
                if (!float.TryParse(csv.GetSpan(c), NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
                    throw DataFormatException.At(path, line, $"{c + 1} ('{header[c]}')",
                        $"'{csv.GetString(c)}' is not a number; every column but the label must be numeric");
                if (!float.IsFinite(value))
                    throw DataFormatException.At(path, line, $"{c + 1} ('{header[c]}')",
                        $"'{csv.GetString(c)}' is not a finite number (NaN, infinity or beyond float range)");
                features.Add(value);
            }

            string label = labelAt < header.Length ? csv.GetString(labelAt) : "";
            if (label.Length == 0 && labelAt < header.Length)
                throw DataFormatException.At(path, line, $"{labelAt + 1} ('{header[labelAt]}')",
                    "the label is missing");
            labels.Add(label);
        }

        if (labels.Count == 0)
            throw new DataFormatException($"{path}: the header has no data rows under it");
        return new Table(path, featureNames, labelAt < header.Length ? header[labelAt] : "", features.ToArray(),
            labels.ToArray());
    }
}
