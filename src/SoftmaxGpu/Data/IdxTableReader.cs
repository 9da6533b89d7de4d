namespace SoftmaxGpu.Data;

/// <summary>
/// Finds MNIST's IDX files in a folder (<c>train-*</c> for training, <c>t10k-*</c> as the test set, gzipped
/// or not) and reads them whole into a table, through <see cref="IdxRowReader"/>.
/// </summary>
public static class IdxTableReader
{
    /// <summary>Whether <paramref name="path"/> is a folder with MNIST's train files (<paramref name="test"/>: its t10k files).</summary>
    public static bool IsIdxFolder(string path, bool test = false) => Directory.Exists(path) && FindPair(path, Prefix(test)) is not null;

    private static string Prefix(bool test) => test ? "t10k" : "train";

    public static Table Read(string folder, bool test)
    {
        using IdxRowReader reader = Open(folder, test);
        if ((long)reader.Rows * reader.Dim > Array.MaxLength)
            throw new DataFormatException($"{folder}: {reader.Rows} images of {reader.Dim} pixels are more values than " +
                "one array holds; convert the folder (softmaxgpu convert) and train from the .sgd file");
        var features = new float[reader.Rows * reader.Dim];
        var text = new string[reader.Rows];
        for (int r = 0; r < text.Length; r++)
            reader.Next(features.AsSpan(r * reader.Dim, reader.Dim), out text[r]); // a short file throws
        return new Table(folder, reader.FeatureNames, reader.LabelName, features, text);
    }

    /// <summary>The folder's train (or t10k) images and labels, to read row by row.</summary>
    public static IdxRowReader Open(string folder, bool test)
    {
        string prefix = test ? "t10k" : "train";
        (string images, string labels) = FindPair(folder, prefix)
            ?? throw new DataFormatException(
                $"{folder}: no {prefix}-images/{prefix}-labels IDX files (run datasets/get-mnist.sh)");
        return new IdxRowReader(folder, images, labels);
    }

    /// <summary>
    /// Why a folder is not MNIST training data, as an error to throw: which of the pair it lacks where it has the other,
    /// else that it has neither.
    /// </summary>
    public static DataFormatException NotIdx(string folder, bool test = false)
    {
        string p = Prefix(test);
        bool images = Find(folder, p, "images", "idx3") is not null, labels = Find(folder, p, "labels", "idx1") is not null;
        return new DataFormatException(images != labels
            ? $"{folder}: a folder with MNIST's {p}-{(images ? "images" : "labels")} file but not its {p}-{(images ? "labels-idx1" : "images-idx3")}-ubyte (gzipped or not)"
            : $"{folder}: a folder, but with no MNIST IDX files in it ({p}-images-idx3-ubyte and {p}-labels-idx1-ubyte, gzipped or not)");
    }

    private static (string Images, string Labels)? FindPair(string folder, string prefix)
    {
        string? images = Find(folder, prefix, "images", "idx3");
        string? labels = Find(folder, prefix, "labels", "idx1");
        return images is null || labels is null ? null : (images, labels);
    }

    // MNIST's files are spelled train-images-idx3-ubyte or train-images.idx3-ubyte, gzipped or not.
    private static string? Find(string folder, string prefix, string kind, string idx) =>
        new[] { $"{prefix}-{kind}-{idx}-ubyte", $"{prefix}-{kind}.{idx}-ubyte" }
            .SelectMany(name => new[] { name, name + ".gz" })
            .Select(name => Path.Combine(folder, name))
            .FirstOrDefault(File.Exists);
}
