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
        var split = new ColumnSplit(table.Source, table.FeatureNames, table.LabelName, names, option);
        int n = table.Rows, m = names.Count, kept = split.Kept.Length;
        var values = new float[(long)n * m];
        var features = new float[(long)n * kept];
        for (int r = 0; r < n; r++)
            split.Apply(table.Features.AsSpan((int)((long)r * table.Dim), table.Dim), values.AsSpan((int)((long)r * m), m),
                features.AsSpan((int)((long)r * kept), kept));
        return (new Table(table.Source, split.Kept, table.LabelName, features, table.Labels), values);
    }

    /// <summary>
    /// "F: line L" for data row <paramref name="row"/> (from 0) of a table just read from the CSV file F (the file is
    /// read again up to that row: for error messages only), else "F: row r" (from 1).
    /// </summary>
    public static string Where(string source, int row)
    {
        if (!File.Exists(source) || DataSource.KindOf(source).IsSgd())
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

/// <summary>
/// Named feature columns taken out of rows one at a time (<see cref="TableColumns.Take"/> over a table, convert over a
/// CSV as it streams): the columns are found once, and a name that is not a numeric column is an error naming the option.
/// </summary>
public sealed class ColumnSplit
{
    private readonly int[] taken; // [M]: the feature index of each name
    private readonly int[] kept;  // the feature indices that stay, in order

    public ColumnSplit(string source, string[] featureNames, string labelName, IReadOnlyList<string> names, string option)
    {
        taken = names.Select(name => Array.IndexOf(featureNames, name)).ToArray();
        for (int i = 0; i < taken.Length; i++)
        {
            if (taken[i] < 0)
                throw new DataFormatException(
                    $"{source}: {option} '{names[i]}' names no numeric column; the columns are: " +
                    $"{string.Join(", ", featureNames.Append(labelName).Where(c => c.Length > 0))}");
        }
        kept = Enumerable.Range(0, featureNames.Length).Except(taken).ToArray();
        Kept = kept.Select(j => featureNames[j]).ToArray();
    }

    /// <summary>The names of the columns that stay features.</summary>
    public string[] Kept { get; }

    /// <summary>One row's values: the named columns into <paramref name="values"/> (in the names' order), the rest into <paramref name="features"/>.</summary>
    public void Apply(ReadOnlySpan<float> row, Span<float> values, Span<float> features)
    {
        for (int i = 0; i < taken.Length; i++)
            values[i] = row[taken[i]];
        for (int j = 0; j < kept.Length; j++)
            features[j] = row[kept[j]];
    }
}
