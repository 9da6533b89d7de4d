namespace SoftmaxGpu.Data;

/// <summary>Which reader a text data file goes to: by extension (auto), or as named.</summary>
public enum DataFormat
{
    /// <summary>LIBSVM for the extensions in <see cref="LibSvmOptions.Extensions"/>, CSV otherwise.</summary>
    Auto,
    Csv,
    LibSvm,
}

/// <summary>
/// How a LIBSVM/svmlight file is read: where its indices start, and D, the number of features (given, or the
/// largest index in the file). Feature i of the dense row is named as the file writes its index: "1".."D" for
/// LIBSVM's 1-based indices, "0".."D−1" with <see cref="ZeroBased"/>, so a model remembers the convention.
/// </summary>
public sealed record LibSvmOptions
{
    /// <summary>Extensions read as LIBSVM under <see cref="DataFormat.Auto"/>.</summary>
    public static readonly string[] Extensions = [".libsvm", ".svm", ".svmlight"];

    /// <summary>Indices start at 0 instead of LIBSVM's 1.</summary>
    public bool ZeroBased { get; init; }

    /// <summary>D; null takes the largest index in the file, at the cost of one more pass over it.</summary>
    public int? Features { get; init; }

    /// <summary>
    /// LIBSVM multi-label (the LIBSVM multi-label data sets, scikit-learn's <c>load_svmlight_file(multilabel=True)</c>):
    /// a line's first token is its comma-separated tags (<c>3,17,42 1:0.5 7:1.2</c>), and a line that starts with an
    /// index:value entry has none (<see cref="TagTable.FromList"/>). Without it a label holding ',' is an error.
    /// </summary>
    public bool MultiLabel { get; init; }

    /// <summary>Where <see cref="Features"/> came from, for the message about an index beyond it.</summary>
    public string FeaturesFrom { get; init; } = "--features";

    /// <summary>The index of the first feature: 0 or 1.</summary>
    public int FirstIndex => ZeroBased ? 0 : 1;

    /// <summary>Whether <paramref name="path"/> is read as LIBSVM under <paramref name="format"/> (a folder never is).</summary>
    public static bool Applies(string path, DataFormat format) =>
        !Directory.Exists(path) && format switch
        {
            DataFormat.LibSvm => true,
            DataFormat.Csv => false,
            _ => Extensions.Any(e => path.EndsWith(e, StringComparison.OrdinalIgnoreCase)),
        };

    /// <summary>Feature names of D features: the indices as the file writes them.</summary>
    public string[] FeatureNames(int dim) =>
        Enumerable.Range(FirstIndex, dim).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    /// <summary>
    /// The options that read a file into the columns <paramref name="featureNames"/> of a model or a training set
    /// (<paramref name="from"/> names it in messages): their D, and 0-based where the first is named "0".
    /// </summary>
    public static LibSvmOptions For(IReadOnlyList<string> featureNames, string from) => new()
    {
        ZeroBased = featureNames.Count > 0 && featureNames[0] == "0",
        Features = featureNames.Count,
        FeaturesFrom = from,
    };
}
