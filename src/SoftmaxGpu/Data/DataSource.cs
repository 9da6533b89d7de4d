namespace SoftmaxGpu.Data;

/// <summary>
/// Where a table comes from: a CSV file, a LIBSVM file (<see cref="LibSvmRowReader"/>, by its extension or
/// <see cref="DataFormat.LibSvm"/>), a .sgd dataset (<see cref="SgdFormat"/>, known by its magic or its
/// extension), or a folder of MNIST IDX files (training files for training, the t10k files for evaluation and
/// prediction). The whole table is read into host memory.
/// A .sgd file loaded here is read whole; train, predict and evaluate read one in blocks instead (SgdRowSource).
/// </summary>
public static class DataSource
{
    /// <param name="format">CSV or LIBSVM for a text file (auto: by extension); .sgd files and folders are known apart.</param>
    /// <param name="libsvm">How a LIBSVM file is read (default: 1-based, D from the file); its label is the first
    /// token of a line, so <paramref name="labelColumn"/> does not apply.</param>
    /// <param name="csv">How a CSV file is read: its separator and feature columns (<see cref="CsvOptions"/>).</param>
    public static Table Load(string path, string? labelColumn, bool testSplit, bool labelOptional = false,
        DataFormat format = DataFormat.Auto, LibSvmOptions? libsvm = null, CsvOptions? csv = null)
    {
        if (Directory.Exists(path))
            return IdxTableReader.IsIdxFolder(path)
                ? IdxTableReader.Read(path, testSplit)
                : throw new DataFormatException($"{path}: a folder, but with no MNIST IDX files in it");
        if (IsSgd(path))
            return LoadSgd(path, labelColumn, labelOptional);
        if (LibSvmOptions.Applies(path, format))
            return LibSvmTableReader.Read(path, libsvm ?? new LibSvmOptions(), labelOptional);
        return CsvTableReader.Read(path, labelColumn, labelOptional, columns: csv);
    }

    /// <summary>
    /// Whether <paramref name="path"/> names a .sgd dataset file: by extension, or by its magic where the name says
    /// nothing (a file named as text, .csv or .libsvm say, is not opened to look: it may be a pipe, read once).
    /// A folder never is one.
    /// </summary>
    public static bool IsSgd(string path) =>
        !Directory.Exists(path) && (path.EndsWith(".sgd", StringComparison.OrdinalIgnoreCase)
                                    || (!TextExtensions.Contains(Path.GetExtension(path)) && SgdFormat.HasMagic(path)));

    /// <summary>Extensions of text data files, never sniffed for the .sgd magic.</summary>
    private static readonly HashSet<string> TextExtensions =
        new([".csv", ".tsv", ".txt", .. LibSvmOptions.Extensions.Select(e => "." + e.TrimStart('.'))], StringComparer.OrdinalIgnoreCase);

    private static Table LoadSgd(string path, string? labelColumn, bool labelOptional)
    {
        using SgdReader reader = OpenSgd(path, labelOptional ? null : labelColumn);
        return reader.ToTable();
    }

    /// <summary>
    /// Opens a .sgd file for reading in blocks. Its label column was fixed when it was converted: naming another
    /// is a mistake, not a choice, and an error.
    /// </summary>
    public static SgdReader OpenSgd(string path, string? labelColumn)
    {
        SgdReader reader = SgdReader.Open(path);
        if (labelColumn is not null && labelColumn != reader.LabelName)
        {
            reader.Dispose();
            throw new DataFormatException(
                $"{path}: the label column of a .sgd file is fixed when it is converted: it is '{reader.LabelName}', " +
                $"not '{labelColumn}' (convert the CSV again with --label {labelColumn})");
        }
        return reader;
    }
}
