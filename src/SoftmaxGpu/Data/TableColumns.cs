using CsvHelper;

namespace SoftmaxGpu.Data;

/// <summary>
/// Numeric columns of a table that are not features (per-row weights, class probabilities), taken out by name, and
/// where a row of a freshly read table is in its file, for messages that name the line.
/// </summary>
public static class TableColumns
{
    /// <summary>
    /// "No label column": with <c>labelOptional</c>, <see cref="DataSource.Load"/> then reads every column as a
    /// feature (a table whose classes come from other columns).
    /// </summary>
    public const string NoLabel = CsvRowReader.AllFeatures;

    /// <summary>
    /// The table without the named feature columns, and their values: [N, names.Count] row-major, in the order of
    /// <paramref name="names"/>. A name that is not a numeric column is an error naming <paramref name="option"/>.
    /// </summary>
    public static (Table Remaining, float[] Values) Take(Table table, IReadOnlyList<string> names, string option)
    {
        int[] taken = names.Select(name => Array.IndexOf(table.FeatureNames, name)).ToArray();
        for (int i = 0; i < taken.Length; i++)
        {
            if (taken[i] < 0)
                throw new DataFormatException(
                    $"{table.Source}: {option} '{names[i]}' names no numeric column; the columns are: " +
                    $"{string.Join(", ", table.FeatureNames.Append(table.LabelName).Where(c => c.Length > 0))}");
        }
        int d = table.Dim, n = table.Rows, m = taken.Length;
        int[] kept = Enumerable.Range(0, d).Except(taken).ToArray();
        var values = new float[(long)n * m];
        var features = new float[(long)n * kept.Length];
        for (int r = 0; r < n; r++)
        {
            long row = (long)r * d;
            for (int i = 0; i < m; i++)
                values[(long)r * m + i] = table.Features[row + taken[i]];
            for (int j = 0; j < kept.Length; j++)
                features[(long)r * kept.Length + j] = table.Features[row + kept[j]];
        }
        string[] featureNames = kept.Select(j => table.FeatureNames[j]).ToArray();
        return (new Table(table.Source, featureNames, table.LabelName, features, table.Labels), values);
    }

    /// <summary>
    /// "F: line L" for data row <paramref name="row"/> (from 0) of a table just read from the CSV file F (the file is
    /// read again up to that row: for error messages only), else "F: row r" (from 1).
    /// </summary>
    public static string Where(string source, int row)
    {
        if (!File.Exists(source) || DataSource.IsSgd(source))
            return $"{source}: row {row + 1}";
        using var csv = CsvReader.FromFile(source, new CsvReaderOptions
        {
            Separator = ',',
            HasHeader = true,
            TrackLineNumbers = true,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
        });
        csv.ReadHeader();
        for (int r = 0; r <= row; r++)
        {
            if (!csv.Read())
                return $"{source}: row {row + 1}";
        }
        return $"{source}: line {csv.LineNumber}";
    }
}
