using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;

namespace SoftmaxGpu.Data;

/// <summary>
/// MNIST's IDX image and label files read row by row (memory: one image): images (magic 0x803: uint8
/// [N, rows, cols]) become pixel features scaled to [0, 1]; labels (0x801: uint8 [N]) the class text
/// "0".."9". Either file may be gzipped. A file that ends before its header's count is an error naming it.
/// </summary>
public sealed class IdxRowReader : IDisposable
{
    private readonly Stream images;
    private readonly Stream labels;
    private readonly string imagesPath;
    private readonly string labelsPath;
    private readonly byte[] pixels;
    private long read;

    public IdxRowReader(string folder, string imagesPath, string labelsPath)
    {
        (this.imagesPath, this.labelsPath) = (imagesPath, labelsPath);
        images = Open(imagesPath);
        labels = Open(labelsPath);
        Span<byte> header = stackalloc byte[16];
        if (!Fill(images, header) || BinaryPrimitives.ReadInt32BigEndian(header) != 0x803)
            throw new DataFormatException($"{imagesPath}: not an IDX image file (magic 0x00000803 expected)");
        Rows = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        int height = BinaryPrimitives.ReadInt32BigEndian(header[8..]);
        int width = BinaryPrimitives.ReadInt32BigEndian(header[12..]);
        if (!Fill(labels, header[..8]) || BinaryPrimitives.ReadInt32BigEndian(header) != 0x801)
            throw new DataFormatException($"{labelsPath}: not an IDX label file (magic 0x00000801 expected)");
        int labelCount = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        if (labelCount != Rows)
            throw new DataFormatException($"{folder}: {Rows} images but {labelCount} labels");
        if (Rows < 0 || height <= 0 || width <= 0 || (long)height * width > Array.MaxLength)
            throw new DataFormatException($"{imagesPath}: an IDX header of {Rows} images of {height}×{width} is not valid");
        Dim = height * width;
        pixels = new byte[Dim];
        FeatureNames = Enumerable.Range(0, Dim).Select(i => $"pixel_{i}").ToArray();
    }

    public long Rows { get; }
    public int Dim { get; }
    public string[] FeatureNames { get; }
    public string LabelName => "label";

    /// <summary>The next image's pixels / 255 into <paramref name="row"/> and its label; false after the last.</summary>
    public bool Next(Span<float> row, out string label)
    {
        label = "";
        if (read == Rows)
            return false;
        Span<byte> one = stackalloc byte[1];
        if (!Fill(images, pixels))
            throw Truncated(imagesPath);
        if (!Fill(labels, one))
            throw Truncated(labelsPath);
        for (int j = 0; j < Dim; j++)
            row[j] = pixels[j] / 255f;
        label = one[0].ToString(CultureInfo.InvariantCulture);
        read++;
        return true;
    }

    private DataFormatException Truncated(string path) =>
        new($"{path}: the file ends at row {read + 1} of the {Rows} its header says (truncated?)");

    private static Stream Open(string path)
    {
        Stream file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return path.EndsWith(".gz", StringComparison.Ordinal)
            ? new BufferedStream(new GZipStream(file, CompressionMode.Decompress), 1 << 16)
            : file;
    }

    /// <summary>Reads exactly buffer.Length bytes; false if the stream ends first.</summary>
    private static bool Fill(Stream stream, Span<byte> buffer)
    {
        try
        {
            stream.ReadExactly(buffer);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        images.Dispose();
        labels.Dispose();
    }
}
