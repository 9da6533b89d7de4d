namespace SoftmaxGpu.Data;

/// <summary>
/// Reads a whole CSV file with a header row into a <see cref="Table"/>; the rules and messages are
/// <see cref="CsvRowReader"/>'s.
/// </summary>
public static class CsvTableReader
{
    /// <param name="labelOptional">Predict-time data: without a column named <paramref name="labelColumn"/>, every
    /// column is a feature and the labels are empty.</param>
    /// <param name="maxValues">Most feature values a table holds (one array's limit; tests lower it).</param>
    /// <param name="emptyLabels">An empty label is a value (a multi-label row without tags).</param>
    /// <param name="columns">The separator and which columns are features (<see cref="CsvOptions"/>).</param>
    public static Table Read(string path, string? labelColumn = null, bool labelOptional = false, long? maxValues = null,
        bool emptyLabels = false, CsvOptions? columns = null)
    {
        using var reader = new CsvRowReader(path, labelColumn, labelOptional, emptyLabels, columns);
        (float[] features, string[] labels) = RowTables.ReadAll(reader, path, "a CSV is read whole for training", maxValues);
        return new Table(path, reader.FeatureNames, reader.LabelName, features, labels);
    }
}
