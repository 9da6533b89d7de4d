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
        (float[] features, string[] labels) = RowTables.ReadAll(reader, path,
            "a LIBSVM file is made dense and read whole for training", maxValues);
        return new Table(path, reader.FeatureNames, LibSvmRowReader.LabelNameFor(options), features, labels)
        {
            Sparse = true,
        };
    }
}
