using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

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
/// <para>
/// Sparse files (version 2, written from LIBSVM by <see cref="SparseSgdWriter"/>, read by <see cref="SparseSgdReader"/>)
/// keep each block in CSR form, 8 bytes a non-zero plus 8 a row. Rows are cut into blocks by a row count and a non-zero
/// budget, so blocks differ in size, and D (the largest index, where not given) is only known at the end: both are in
/// the footer. The statistics are over all N rows, zeros counted (<see cref="SparseTable.Statistics"/>'s numbers).
/// <code>
///   preamble (28 bytes)
///     magic          8 bytes   ASCII "SMXGPUDS"
///     version        int32     2
///     reserved       8 bytes   zero
///     footer offset  int64     where the footer starts
///   blocks: block b holds n_b ≥ 1 rows and z_b ≥ 0 non-zeros, 8·n_b + 8·z_b + 20 bytes
///     n_b            int32
///     z_b            int32
///     row starts     (n_b + 1) int32: 0 = s_0 ≤ s_1 ≤ … ≤ s_{n_b} = z_b; row i's non-zeros are entries s_i … s_{i+1} − 1
///     y              n_b int32, stored class indices (first appearance in the file: 0, 1, …)
///     columns        z_b int32, 0-based, strictly increasing within a row, &lt; D
///     values         z_b float32, finite, raw (an explicit 0 in the text is kept)
///     checksum       8 bytes   XxHash64 (seed 0) of the block's bytes before it, from n_b on
///   footer
///     N              int64     rows, ≥ 1
///     nnz            int64     Σ z_b
///     D              int32     features, ≥ 1
///     first index    int32     0 or 1: feature j is named (first + j), as the LIBSVM file writes its index
///     label name     string    "label"; "tags" for multi-label rows (convert --multi-label): each class is then a tag set,
///                              its tags joined by '|' ("" for none), read only by multi-label training and models
///     K              int32     classes, ≥ 1
///     classes        K strings, sorted as Table.OrderClasses sorts them
///     permutation    K int32   stored class index → index into the sorted classes
///     B              int32     blocks, ≥ 1
///     block sizes    B × (n_b int32, z_b int32): block b starts at 28 + Σ_{c &lt; b} (8·n_c + 8·z_c + 20)
///     L              int32     columns that occur: the largest column + 1 (≤ D; features from L on are zero in every row)
///     mean           L float64 per-feature mean over all N rows, zeros included
///     std            L float64 population std over all N rows, zeros included (0 for a constant feature, stored as is)
///     max |x|        L float64
///     checksum       32 bytes  SHA-256 of the preamble and every footer byte before it
/// </code>
/// A reader of version 1 only (before sparse files) rejects a sparse file by its version, with that message.
/// </para>
/// <para>
/// Dense files whose rows carry more than a label (version 3, written only where they do; every other dense file stays
/// version 1): the preamble is version 1's with version 3, and each block adds, after y, the rows' target rows and/or
/// weights, under the same checksum. What they hold is in the footer, after std (<see cref="SgdBlockLayout"/>):
/// <code>
///   blocks: block b holds min(R, N − b·R) rows:
///     X              rows·D float32, as version 1
///     y              rows int32: the stored class index; with target rows, the largest target's column (probabilities)
///                    or 0 (tags: unused)
///     Y              rows·K float32, row-major [rows, K], where the file has target rows: probabilities (each row summing
///                    to 1, as train normalizes them) or 0/1 tags, in the order of the footer's classes
///     w              rows float32, where the file has weights: finite, ≥ 0, not all 0
///     checksum       8 bytes   XxHash64 (seed 0) of the block's X, y, Y and w bytes
///   footer: version 1's (with target rows, the classes are the K target or tag names in Y's column order, and the
///   permutation is the identity), then
///     targets        string    "labels", "probabilities", "multi-label-tags" or "multi-label-columns" (<see cref="RowTargetKind"/>)
///     weight column  string    the column the weights came from; "" where the file has none
/// </code>
/// A reader of versions 1 and 2 only rejects such a file by its version.
/// </para>
/// </summary>
public static class SgdFormat
{
    /// <summary>The version of dense files (unchanged since the first .sgd file).</summary>
    public const int Version = 1;
    /// <summary>The version of sparse (CSR) files.</summary>
    public const int SparseVersion = 2;
    /// <summary>The version of dense files whose rows carry target rows or weights besides the label.</summary>
    public const int TargetsVersion = 3;
    /// <summary>The newest version this build reads.</summary>
    public const int NewestVersion = TargetsVersion;
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

    /// <summary>
    /// R for rows of <paramref name="floats"/> floats besides the label (D, or D + K + 1 with target rows and weights):
    /// the default, or fewer so that a block's floats stay within 64 MiB.
    /// </summary>
    public static int BlockRowsFor(int floats) => (int)Math.Clamp(MaxBlockFeatureBytes / (4L * floats), 1, DefaultBlockRows);

    /// <summary>Whether blocks of R rows of <paramref name="floats"/> floats stay within <see cref="MaxBlockFeatureBytes"/>.</summary>
    public static bool BlockFits(int blockRows, int floats) => (long)blockRows * floats * 4 <= MaxBlockFeatureBytes;

    /// <summary>Bytes of a block of <paramref name="rows"/> rows of version 1: X, y and the checksum.</summary>
    public static long BlockBytes(int rows, int dim) => new SgdBlockLayout(dim, 0, false).Bytes(rows);

    /// <summary>Where the footer of a version 1 file must start for N rows of D features in blocks of R.</summary>
    public static long FooterOffset(long rows, int dim, int blockRows) => new SgdBlockLayout(dim, 0, false).FooterOffset(rows, blockRows);

    /// <summary>True when the file starts with the .sgd magic.</summary>
    public static bool HasMagic(string path)
    {
        if (!File.Exists(path))
            return false;
        using FileStream file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[8];
        return file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head.SequenceEqual(Magic);
    }

    /// <summary>Rows a sparse block holds at most by default (fewer where the non-zero budget fills first).</summary>
    public const int DefaultSparseBlockRows = 65536;
    /// <summary>Non-zeros a sparse block holds at most by default (16 MiB of columns and values); a row longer than
    /// this is a block of its own.</summary>
    public const int DefaultSparseBlockNonZeros = 1 << 21;
    /// <summary>The most columns a sparse file's statistics cover (L): 2²⁴, a hashed feature space; its footer then takes 384 MiB.</summary>
    public const int MaxSparseColumns = 1 << 24;
    /// <summary>A bound on a sparse file's footer: three float64 statistics per column, plus what a dense footer may hold.</summary>
    public const long MaxSparseFooterBytes = 24L * MaxSparseColumns + MaxFooterBytes;

    /// <summary>Bytes of a sparse block of <paramref name="rows"/> rows and <paramref name="nonZeros"/> non-zeros, checksum included.</summary>
    public static long SparseBlockBytes(int rows, int nonZeros) => 8L * rows + 8L * nonZeros + 20;

    /// <summary>The version a .sgd file says it is (null: not a .sgd file, or shorter than its version).</summary>
    public static int? VersionOf(string path)
    {
        if (!File.Exists(path))
            return null;
        using FileStream file = File.OpenRead(path);
        Span<byte> head = stackalloc byte[12];
        return file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head[..8].SequenceEqual(Magic)
            ? BinaryPrimitives.ReadInt32LittleEndian(head[8..])
            : null;
    }

    /// <summary>True when <paramref name="path"/> is a sparse .sgd file (version 2).</summary>
    public static bool IsSparse(string path) => VersionOf(path) == SparseVersion;

    internal static byte[] SparsePreamble(long footerOffset)
    {
        var bytes = new byte[PreambleBytes];
        Magic.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), SparseVersion);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(FooterOffsetAt), footerOffset);
        return bytes;
    }

    internal static byte[] Preamble(int version, int dim, int blockRows, long footerOffset)
    {
        var bytes = new byte[PreambleBytes];
        Magic.CopyTo(bytes, 0);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), version);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), dim);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), blockRows);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(FooterOffsetAt), footerOffset);
        return bytes;
    }

    /// <summary>
    /// The two ends of a file of one of the formats <paramref name="versions"/>, checked as every reader checks them: the
    /// preamble (magic, length, version — a file of another known version named as such — and the footer's offset) and the footer,
    /// at most <paramref name="maxFooterBytes"/>, against its SHA-256. Returns the preamble and the footer without its checksum.
    /// </summary>
    public static (byte[] Preamble, byte[] Footer, long FooterOffset) ReadEnds(string path, SafeFileHandle handle, int[] versions,
        long maxFooterBytes)
    {
        long length = RandomAccess.GetLength(handle);
        var preamble = new byte[PreambleBytes];
        int got = RandomAccess.Read(handle, preamble, 0);
        if (length == 0)
            throw new DataFormatException($"{path}: the file is empty; expected a SoftmaxGpu dataset (.sgd)");
        if (got < Magic.Length || !preamble.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new DataFormatException($"{path}: not a SoftmaxGpu dataset file (bad magic; expected \"SMXGPUDS\")");
        if (got < PreambleBytes)
            throw new DataFormatException($"{path}: dataset file is truncated ({length} bytes, shorter than its preamble)");
        int found = BinaryPrimitives.ReadInt32LittleEndian(preamble.AsSpan(8));
        if (!versions.Contains(found) && found is Version or SparseVersion or TargetsVersion)
            throw new DataFormatException(found == SparseVersion
                ? $"{path}: a sparse .sgd dataset (format version {found}, CSR rows from LIBSVM), read as sparse rows (SparseSgdReader), not in dense blocks"
                : $"{path}: a dense .sgd dataset (format version {found}); read it with SgdReader");
        if (!versions.Contains(found))
            throw new DataFormatException(
                $"{path}: dataset format version {found}; this build reads versions {Version} and {TargetsVersion} (dense) and " +
                $"{SparseVersion} (sparse)" + (found > NewestVersion ? " (the file comes from a newer SoftmaxGpu: update this one)" : ""));
        long footerOffset = BinaryPrimitives.ReadInt64LittleEndian(preamble.AsSpan(FooterOffsetAt));
        if (footerOffset < PreambleBytes || footerOffset > length - FooterChecksumBytes - 8)
            throw new DataFormatException(
                $"{path}: dataset file is truncated or corrupted (footer offset {footerOffset} is outside the {length}-byte file)");
        if (length - footerOffset > maxFooterBytes)
            throw new DataFormatException($"{path}: dataset file is corrupted (a footer of {length - footerOffset} bytes from offset {footerOffset})");
        var footer = new byte[length - footerOffset];
        ReadExactly(path, handle, footer, footerOffset);
        int body = footer.Length - FooterChecksumBytes;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(preamble);
        sha.AppendData(footer, 0, body);
        if (!sha.GetHashAndReset().AsSpan().SequenceEqual(footer.AsSpan(body)))
            throw new DataFormatException($"{path}: dataset file is truncated or corrupted (footer checksum mismatch)");
        return (preamble, footer[..body], footerOffset);
    }

    /// <summary>Ends a file written from <paramref name="start"/>: the footer and its SHA-256 (over the preamble too), then the preamble in its place.</summary>
    public static void WriteEnds(Stream stream, long start, byte[] preamble, byte[] footer)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(preamble);
        sha.AppendData(footer);
        stream.Write(footer);
        stream.Write(sha.GetHashAndReset());
        long end = stream.Position;
        stream.Position = start;
        stream.Write(preamble);
        stream.Position = end;
    }

    /// <summary>Exactly <paramref name="buffer"/>'s length from <paramref name="offset"/>; a file that ends first is an error.</summary>
    public static void ReadExactly(string path, SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        while (buffer.Length > 0)
        {
            int got = RandomAccess.Read(handle, buffer, offset);
            if (got == 0)
                throw new DataFormatException($"{path}: dataset file is truncated (ends at byte {offset})");
            buffer = buffer[got..];
            offset += got;
        }
    }

    /// <summary>
    /// The classes in the order a file lists them (<see cref="Table.OrderClasses"/>), then, for each class in the
    /// order rows first gave it (the index written in the blocks), its place in that list: the footer's permutation.
    /// </summary>
    public static void WriteClasses(BinaryWriter w, IReadOnlyList<string> firstSeen)
    {
        string[] sorted = Table.OrderClasses(firstSeen);
        var sortedIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < sorted.Length; k++)
            sortedIndex[sorted[k]] = k;
        w.Write(sorted.Length);
        foreach (string c in sorted)
            FileStrings.Write(w, c);
        foreach (string c in firstSeen)
            w.Write(sortedIndex[c]);
    }

    /// <summary>Classes kept in the order given (target or tag names: Y's columns), with the identity permutation.</summary>
    public static void WriteClassesInOrder(BinaryWriter w, IReadOnlyList<string> names)
    {
        w.Write(names.Count);
        foreach (string c in names)
            FileStrings.Write(w, c);
        for (int k = 0; k < names.Count; k++)
            w.Write(k);
    }

}
