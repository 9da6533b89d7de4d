namespace SoftmaxGpu.Data;

/// <summary>
/// Reads a whole CSV file with a header row into a <see cref="Table"/>; the rules and messages are
/// <see cref="CsvRowReader"/>'s.
/// </summary>
public static class CsvTableReader
{
    /// <param name="labelOptional">Predict-time data: without a column named <paramref name="labelColumn"/>, every
    /// column is a feature and the labels are empty.</param>
    public static Table Read(string path, string? labelColumn = null, bool labelOptional = false)
    {
        using var reader = new CsvRowReader(path, labelColumn, labelOptional);
        var features = new List<float>();
        var labels = new List<string>();
        var row = new float[reader.Dim];
        while (reader.Next(row, out string label))
        {
            features.AddRange(row);
            labels.Add(label);
        }
        if (labels.Count == 0)
            throw reader.NoRows();
        return new Table(path, reader.FeatureNames, reader.LabelName, features.ToArray(), labels.ToArray());
    }
}
