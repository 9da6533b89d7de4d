namespace SoftmaxGpu.Data;

/// <summary>
/// Where a table comes from: a CSV file, or a folder of MNIST IDX files (training files for training, the
/// t10k files for evaluation and prediction). The whole table is read into host memory.
/// REVIEW: sets larger than the device already stream from host memory in blocks (TrainingData); a set larger
/// than host memory needs TrainingData to stage its blocks from a file instead of from this table.
/// </summary>
public static class DataSource
{
    public static Table Load(string path, string? labelColumn, bool testSplit, bool labelOptional = false)
    {
        if (Directory.Exists(path))
            return IdxTableReader.IsIdxFolder(path)
                ? IdxTableReader.Read(path, testSplit)
                : throw new DataFormatException($"{path}: a folder, but with no MNIST IDX files in it");
        return CsvTableReader.Read(path, labelColumn, labelOptional);
    }
}
