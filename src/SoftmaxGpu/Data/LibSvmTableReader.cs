namespace SoftmaxGpu.Data;

/// <summary>
/// Reads a whole LIBSVM file into a dense <see cref="Table"/> marked <see cref="Table.Sparse"/> (training scales
/// its features without centring them); the rules and messages are <see cref="LibSvmRowReader"/>'s.
/// </summary>
public static class LibSvmTableReader
{
    /// <param name="labelOptional">Predict-time data: lines may start without a label.</param>
    /// <param name="maxValues">Most feature values a table holds (one array's limit; tests lower it).</param>
    public static Table Read(string path, LibSvmOptions options, bool labelOptional = false, long? maxValues = null)
    {
        using var reader = new LibSvmRowReader(path, options, labelOptional);
        var features = new List<float>();
        var labels = new List<string>();
        var row = new float[reader.Dim];
        long limit = maxValues ?? Array.MaxLength;
        while (reader.Next(row, out string label))
        {
            if (features.Count + (long)row.Length > limit)
                throw new DataFormatException(
                    $"{path}: more than {limit:N0} feature values (row {labels.Count + 1} of {reader.Dim} features), more " +
                    $"than one array holds: a LIBSVM file is made dense and read whole for training. Convert it " +
                    $"(softmaxgpu convert --data {path} --out FILE.sgd) and use the .sgd file, which is read in blocks.");
            features.AddRange(row);
            labels.Add(label);
        }
        if (labels.Count == 0)
            throw reader.NoRows();
        return new Table(path, reader.FeatureNames, LibSvmRowReader.LabelName, features.ToArray(), labels.ToArray())
        {
            Sparse = true,
        };
    }
}
