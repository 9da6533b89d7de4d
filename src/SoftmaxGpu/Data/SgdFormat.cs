using System.Buffers.Binary;
using System.Text;

namespace SoftmaxGpu.Data;

/// <summary>
/// The binary dataset file (<c>.sgd</c>), little-endian throughout (README.md, "Dataset file", says the same).
/// Written in one pass, so what is only known at the end (N, the classes, the statistics) is in a footer
/// that the preamble points to:
/// <code>
///   preamble (28 bytes)
///     magic          8 bytes   ASCII "SMXGPUDS"
///     version        int32     1
///     D              int32     features per row, ≥ 1
///     R              int32     rows per block, ≥ 1 (65536, or fewer so that a block's features are ≤ 64 MiB)
///     footer offset  int64     where the footer starts
///   blocks: block b holds min(R, N − b·R) rows (every block R rows but the last)
///     X              rows·D float32, row-major [rows, D]; raw values, not standardized
///     y              rows int32, stored class indices (first appearance in the file: 0, 1, …)
///     checksum       8 bytes   XxHash64 (seed 0) of the block's X and y bytes
///   footer
///     N              int64     rows, ≥ 1
///     label name     string    (int32 byte count, then UTF-8 bytes; so are all strings below)
///     features       D strings
///     K              int32     classes, ≥ 1
///     classes        K strings, sorted as Table.OrderClasses sorts them (numeric if all are integers, else ordinal)
///     permutation    K int32   stored class index → index into the sorted classes
///     mean           D float64 per-feature mean of X
///     std            D float64 per-feature population std of X (0 for a constant feature, stored as is)
///     checksum       32 bytes  SHA-256 of the preamble and every footer byte before it
/// </code>
/// The file is written to a temporary file beside the target and renamed over it, so a failed conversion
/// never leaves half a dataset.
/// </summary>
public static class SgdFormat
{
    public const int Version = 1;
    public static readonly byte[] Magic = "SMXGPUDS"u8.ToArray();
    public const int PreambleBytes = 28;
    public const int FooterOffsetAt = 20;
    public const int BlockChecksumBytes = 8;
    public const int FooterChecksumBytes = 32;
    public const int DefaultBlockRows = 65536;
    /// <summary>The most bytes of X in one block, for writer and reader alike (a reader holds one block to verify it).</summary>
    public const long MaxBlockFeatureBytes = 64L << 20;
    /// <summary>A bound on the footer a reader loads, far above any real one (D names and K classes).</summary>
    public const long MaxFooterBytes = 256L << 20;
    internal const int MaxStringBytes = 1 << 20;

    /// <summary>R for D features: the default, or fewer so that a block's X stays within 64 MiB.</summary>
    public static int BlockRowsFor(int dim) => (int)Math.Clamp(MaxBlockFeatureBytes / (4L * dim), 1, DefaultBlockRows);

    /// <summary>Whether blocks of R rows of D features keep X within <see cref="MaxBlockFeatureBytes"/>.</summary>
    public static bool BlockFits(int blockRows, int dim) => (long)blockRows * dim * 4 <= MaxBlockFeatureBytes;

    /// <summary>Bytes of a block of <paramref name="rows"/> rows: X, y and the checksum.</summary>
    public static long BlockBytes(int rows, int dim) => (long)rows * dim * 4 + (long)rows * 4 + BlockChecksumBytes;

    /// <summary>Where the footer must start for N rows of D features in blocks of R.</summary>
    public static long FooterOffset(long rows, int dim, int blockRows)
    {
        long fullBlocks = rows / blockRows;
        int lastRows = (int)(rows % blockRows);
        return PreambleBytes + fullBlocks * BlockBytes(blockRows, dim) + (lastRows > 0 ? BlockBytes(lastRows, dim) : 0);
    }

    /// <summary>True when the file starts with the .sgd magic.</summary>
    public static bool HasMagic(string path)
    {
        if (!File.Exists(path))
            return false;
        using FileStream file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[8];
        return file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head.SequenceEqual(Magic);
    }

    internal static byte[] Preamble(int dim, int blockRows, long footerOffset)
    {
        var bytes = new byte[PreambleBytes];
        Magic.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), Version);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), dim);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), blockRows);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(FooterOffsetAt), footerOffset);
        return bytes;
    }

    internal static void WriteString(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write(bytes.Length);
        w.Write(bytes);
    }
}
