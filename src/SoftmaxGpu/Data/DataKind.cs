namespace SoftmaxGpu.Data;

/// <summary>
/// What a data path holds, and so how train, predict, evaluate and convert read it. <see cref="DataSource.KindOf"/>
/// is the one place that decides; every command and the capability table ask it.
/// </summary>
public enum DataKind
{
    /// <summary>A CSV file with a header: any name but LIBSVM's extensions, or <c>--format csv</c>.</summary>
    Csv,

    /// <summary>LIBSVM / svmlight text: <c>*.libsvm</c>, <c>*.svm</c>, <c>*.svmlight</c>, or <c>--format libsvm</c>.</summary>
    LibSvm,

    /// <summary>A dense .sgd dataset (versions 1 and 3: rows, labels, and target rows or weights where converted with them).</summary>
    Sgd,

    /// <summary>A sparse .sgd dataset (version 2: CSR rows converted from LIBSVM).</summary>
    SparseSgd,

    /// <summary>A folder: MNIST IDX files.</summary>
    Folder,
}

public static class DataKinds
{
    /// <summary>Whether rows of this kind come with named columns (a CSV header), which --label, --ignore and friends name.</summary>
    public static bool HasNamedColumns(this DataKind kind) => kind == DataKind.Csv;

    /// <summary>A .sgd dataset of either kind.</summary>
    public static bool IsSgd(this DataKind kind) => kind is DataKind.Sgd or DataKind.SparseSgd;

    /// <summary>LIBSVM rows, as text or converted to a sparse .sgd file.</summary>
    public static bool IsLibSvmRows(this DataKind kind) => kind is DataKind.LibSvm or DataKind.SparseSgd;

    /// <summary>The kind in words, for messages: "a CSV file", "LIBSVM data", "a .sgd file", "an MNIST folder".</summary>
    public static string Describe(this DataKind kind) => kind switch
    {
        DataKind.Csv => "a CSV file",
        DataKind.LibSvm => "LIBSVM data",
        DataKind.Sgd => "a .sgd file",
        DataKind.SparseSgd => "a sparse .sgd file",
        _ => "an MNIST folder",
    };
}
