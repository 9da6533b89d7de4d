using System.Buffers.Binary;
using System.IO.Compression;

namespace SoftmaxGpu.Data;

/// <summary>
/// Reads MNIST's IDX files from a folder: <c>train-*</c> for training, <c>t10k-*</c> as the test set.
/// Images (magic 0x803: uint8 [N, rows, cols]) become pixel features scaled to [0, 1]; labels (0x801:
/// uint8 [N]) become the class text "0".."9". Files may be gzipped (<c>.gz</c>).
/// </summary>
public static class IdxTableReader
{
    public static bool IsIdxFolder(string path) => Directory.Exists(path) && FindPair(path, "train") is not null;

    public static Table Read(string folder, bool test)
    {
        string prefix = test ? "t10k" : "train";
        (string images, string labels) = FindPair(folder, prefix)
            ?? throw new DataFormatException(
                $"{folder}: no {prefix}-images/{prefix}-labels IDX files (run datasets/get-mnist.sh)");

        byte[] imageBytes = ReadAll(images);
        byte[] labelBytes = ReadAll(labels);
        if (imageBytes.Length < 16 || BinaryPrimitives.ReadInt32BigEndian(imageBytes) != 0x803)
            throw new DataFormatException($"{images}: not an IDX image file (magic 0x00000803 expected)");
        if (labelBytes.Length < 8 || BinaryPrimitives.ReadInt32BigEndian(labelBytes) != 0x801)
            throw new DataFormatException($"{labels}: not an IDX label file (magic 0x00000801 expected)");

        int n = BinaryPrimitives.ReadInt32BigEndian(imageBytes.AsSpan(4));
        int height = BinaryPrimitives.ReadInt32BigEndian(imageBytes.AsSpan(8));
        int width = BinaryPrimitives.ReadInt32BigEndian(imageBytes.AsSpan(12));
        int d = height * width;
        int labelCount = BinaryPrimitives.ReadInt32BigEndian(labelBytes.AsSpan(4));
        if (labelCount != n)
            throw new DataFormatException($"{folder}: {n} images but {labelCount} labels");
        if (imageBytes.Length < 16 + (long)n * d || labelBytes.Length < 8 + n)
            throw new DataFormatException($"{folder}: IDX file shorter than its header says (truncated?)");

        var features = new float[(long)n * d];
        for (long i = 0; i < features.Length; i++)
            features[i] = imageBytes[16 + i] / 255f;
        var text = new string[n];
        for (int r = 0; r < n; r++)
            text[r] = labelBytes[8 + r].ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] names = Enumerable.Range(0, d).Select(i => $"pixel_{i}").ToArray();
        return new Table(folder, names, "label", features, text);
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

    private static byte[] ReadAll(string path)
    {
        if (!path.EndsWith(".gz", StringComparison.Ordinal))
            return File.ReadAllBytes(path);
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        return memory.ToArray();
    }
}
