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
    public static Table Read(string path, string? labelColumn = null, bool labelOptional = false, long? maxValues = null,
        bool emptyLabels = false)
    {
        using var reader = new CsvRowReader(path, labelColumn, labelOptional, emptyLabels);
        var features = new List<float>();
        var labels = new List<string>();
        var row = new float[reader.Dim];
        long limit = maxValues ?? Array.MaxLength;
        while (reader.Next(row, out string label))
        {
            if (features.Count + (long)row.Length > limit)
                throw new DataFormatException(
                    $"{path}: more than {limit:N0} feature values (row {labels.Count + 1} of {reader.Dim} features), more " +
                    $"than one array holds: a CSV is read whole for training. Convert it (softmaxgpu convert --data " +
                    $"{path} --out FILE.sgd) and use the .sgd file, which is read in blocks.");
            features.AddRange(row);
            labels.Add(label);
        }
        if (labels.Count == 0)
            throw reader.NoRows();
        return new Table(path, reader.FeatureNames, reader.LabelName, features.ToArray(), labels.ToArray());
    }
}
