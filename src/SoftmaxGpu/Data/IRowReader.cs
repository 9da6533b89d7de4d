namespace SoftmaxGpu.Data;

/// <summary>A text file of rows read one at a time (<see cref="CsvRowReader"/>, <see cref="LibSvmRowReader"/>).</summary>
public interface IRowReader
{
    /// <summary>D: features per row.</summary>
    int Dim { get; }

    /// <summary>Reads the next row's D features and its label text; false at the end of the file.</summary>
    bool Next(Span<float> features, out string label);

    /// <summary>The error for a file that ended without a data row.</summary>
    DataFormatException NoRows();
}

/// <summary>Every row of a reader into one [N, D] array, as training reads a text file (whole).</summary>
public static class RowTables
{
    /// <param name="what">The file's kind for the message past one array's limit ("a CSV is read whole for training").</param>
    /// <param name="maxValues">Most feature values (one array's limit; tests lower it).</param>
    public static (float[] Features, string[] Labels) ReadAll(IRowReader reader, string path, string what, long? maxValues)
    {
        var features = new List<float>();
        var labels = new List<string>();
        var row = new float[reader.Dim];
        long limit = maxValues ?? Array.MaxLength;
        while (reader.Next(row, out string label))
        {
            if (features.Count + (long)row.Length > limit)
                throw new DataFormatException(
                    $"{path}: more than {limit:N0} feature values (row {labels.Count + 1} of {reader.Dim} features), more " +
                    $"than one array holds: {what}. Convert it (softmaxgpu convert --data {path} --out FILE.sgd) and " +
                    "use the .sgd file, which is read in blocks.");
            features.AddRange(row);
            labels.Add(label);
        }
        if (labels.Count == 0)
            throw reader.NoRows();
        return (features.ToArray(), labels.ToArray());
    }
}
