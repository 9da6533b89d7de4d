namespace SoftmaxGpu.Data;

/// <summary>
/// Where a table comes from: a CSV file, a LIBSVM file (<see cref="LibSvmRowReader"/>, by its extension or
/// <see cref="DataFormat.LibSvm"/>), a .sgd dataset (<see cref="SgdFormat"/>, known by its magic or its
/// extension), or a folder of MNIST IDX files (training files for training, the t10k files for evaluation and
/// prediction). The whole table is read into host memory.
/// A .sgd file loaded here is read whole; train, predict and evaluate read a dense one in blocks instead
/// (SgdRowSource). A sparse .sgd file (version 2) is made dense here, as a LIBSVM file is; train, predict and evaluate
/// keep it sparse (<see cref="LoadSparse"/>).
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
        return KindOf(path, format) switch
        {
            DataKind.Folder => IdxTableReader.IsIdxFolder(path, testSplit)
                ? IdxTableReader.Read(path, testSplit)
                : throw IdxTableReader.NotIdx(path, testSplit),
            DataKind.SparseSgd => LoadSparseSgdDense(path, labelOptional ? null : labelColumn),
            DataKind.Sgd => LoadSgd(path, labelOptional ? null : labelColumn),
            DataKind.LibSvm => LibSvmTableReader.Read(path, libsvm ?? new LibSvmOptions(), labelOptional),
            _ => CsvTableReader.Read(path, labelColumn, labelOptional, columns: csv),
        };
    }

    /// <summary>
    /// What <paramref name="path"/> holds (<see cref="DataKind"/>): a folder; a .sgd file, dense or sparse, by its
    /// extension or magic (<see cref="IsSgd"/>); else LIBSVM or CSV text by <paramref name="format"/> and the extension.
    /// The one place that decides how a path is read. A .sgd path that does not exist is <see cref="DataKind.Sgd"/>
    /// (opening it says it is missing).
    /// </summary>
    public static DataKind KindOf(string path, DataFormat format = DataFormat.Auto) =>
        Directory.Exists(path) ? DataKind.Folder
        : IsSgd(path) ? (File.Exists(path) && SgdFormat.IsSparse(path) ? DataKind.SparseSgd : DataKind.Sgd)
        : LibSvmOptions.Applies(path, format) ? DataKind.LibSvm
        : DataKind.Csv;

    /// <summary>
    /// Whether <paramref name="path"/> names a .sgd dataset file: by extension, or by its magic whatever its name (a .sgd
    /// file renamed .csv is still one). Only a file with a size is opened to look: a FIFO or a pipe (size 0) can be read
    /// once, by the command itself. A folder never is one.
    /// </summary>
    public static bool IsSgd(string path) =>
        !Directory.Exists(path) && (path.EndsWith(".sgd", StringComparison.OrdinalIgnoreCase)
                                    || (File.Exists(path) && new FileInfo(path).Length > 0 && SgdFormat.HasMagic(path)));

    /// <summary>Whether <paramref name="path"/> is a sparse .sgd file (CSR rows, from LIBSVM; <see cref="SparseSgdReader"/>).</summary>
    public static bool IsSparseSgd(string path) => KindOf(path) == DataKind.SparseSgd;

    /// <summary>
    /// LIBSVM rows kept sparse: a sparse .sgd file read whole (its footer's D, or <paramref name="libsvm"/>'s Features
    /// where given, which every column must be below), or a LIBSVM text file (<see cref="SparseTable.Read"/>).
    /// </summary>
    public static SparseTable LoadSparse(string path, LibSvmOptions libsvm, bool labelOptional = false)
    {
        if (!IsSparseSgd(path))
            return SparseTable.Read(path, libsvm, labelOptional);
        using SparseSgdReader reader = SparseSgdReader.Open(path);
        if (!labelOptional)
            CheckTags(path, reader.LabelName, libsvm.MultiLabel);
        return reader.ToSparseTable(libsvm.Features, libsvm.FeaturesFrom);
    }

    /// <summary>
    /// A sparse .sgd file of tag sets (convert --multi-label: label name <see cref="LibSvmRowReader.TagsName"/>) is read
    /// only as multi-label rows, and one of classes only as classes.
    /// </summary>
    internal static void CheckTags(string path, string fileLabel, bool multiLabel)
    {
        bool tags = fileLabel == LibSvmRowReader.TagsName;
        if (tags && !multiLabel)
            throw new DataFormatException($"{path}: its rows hold tag sets (converted with --multi-label): train it with --multi-label, " +
                                          "or predict and evaluate it with a multi-label model");
        if (!tags && multiLabel)
            throw new DataFormatException($"{path}: its rows hold one class each (converted without --multi-label): convert the " +
                                          "LIBSVM file again with --multi-label for its tag lists");
    }

    private static Table LoadSgd(string path, string? labelColumn)
    {
        using SgdReader reader = OpenSgd(path, labelColumn);
        return reader.ToTable();
    }

    /// <summary>A sparse .sgd file made dense, as <see cref="LibSvmTableReader"/> makes a LIBSVM file (scaled without centring).</summary>
    private static Table LoadSparseSgdDense(string path, string? labelColumn)
    {
        using SparseSgdReader reader = SparseSgdReader.Open(path);
        CheckLabel(path, reader.LabelName, labelColumn);
        if (labelColumn is not null)
            CheckTags(path, reader.LabelName, multiLabel: false);
        if (reader.Rows * reader.Dim > Array.MaxLength)
            throw new DataFormatException(
                $"{path}: {reader.Rows} rows × {reader.Dim} features are too many to make dense in one host array; this sparse " +
                "file trains kept sparse (train --data FILE.sgd)");
        SparseTable rows = reader.ToSparseTable();
        var features = new float[rows.Rows * rows.Dim];
        rows.X.Densify(0, rows.Rows, features);
        return new Table(path, rows.FeatureNames, rows.LabelName, features, rows.Labels) { Sparse = true };
    }

    /// <summary>
    /// Opens a .sgd file for reading in blocks. Its label column was fixed when it was converted: naming another
    /// is a mistake, not a choice, and an error.
    /// </summary>
    public static SgdReader OpenSgd(string path, string? labelColumn)
    {
        SgdReader reader = SgdReader.Open(path);
        try
        {
            CheckLabel(path, reader.LabelName, labelColumn);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
        return reader;
    }

    /// <summary>A label column named for a .sgd file must be the one it was converted with.</summary>
    internal static void CheckLabel(string path, string fileLabel, string? labelColumn)
    {
        if (labelColumn is not null && labelColumn != fileLabel)
            throw new DataFormatException(
                $"{path}: the label column of a .sgd file is fixed when it is converted: it is '{fileLabel}', " +
                $"not '{labelColumn}' (convert the CSV again with --label {labelColumn})");
    }
}
