using System.Globalization;
using System.Text;
using SoftmaxGpu.Data;

namespace SoftmaxGpu.Tests;

/// <summary>
/// Sparse .sgd files (version 2) and <c>softmaxgpu convert</c> of LIBSVM: a round trip must give back exactly what
/// <see cref="SparseTable.Read"/> gives of the text (the trusted second implementation), at every block boundary,
/// with its statistics; a damaged block is caught by its checksum; a dense file of the first format still reads;
/// bad LIBSVM stops convert with the reader's message and leaves no file.
/// </summary>
public sealed class SparseSgdFileTests() : CliFolder("softmaxgpu-sparse-sgd-")
{
    private static readonly string DenseV1 = Path.Combine(AppContext.BaseDirectory, "data", "iris-v1.sgd");

    /// <summary>
    /// A seeded LIBSVM file of N rows over D features: a few non-zeros a row at skewed columns, values of mixed
    /// magnitude (and an explicit 0), empty rows, a comment, a blank line, a row far longer than the rest, text labels
    /// whose first appearances are out of order.
    /// </summary>
    private string MakeLibSvm(string name, int rows, int dim, int seed = 17, bool zeroBased = false)
    {
        var random = new Random(seed);
        string[] labels = ["spam", "ham", "eggs", "10"];
        var text = new StringBuilder("# made by SparseSgdFileTests\n\n");
        int first = zeroBased ? 0 : 1;
        for (int r = 0; r < rows; r++)
        {
            text.Append(r < labels.Length ? labels[r] : labels[random.Next(labels.Length)]);
            int count = r == rows / 2 ? dim / 2 : r % 7 == 3 ? 0 : random.Next(1, 9);
            var columns = new SortedSet<int>();
            while (columns.Count < count)
                columns.Add(r == rows / 2 ? random.Next(dim) : (int)(dim * Math.Pow(random.NextDouble(), 3)));
            foreach (int j in columns)
            {
                double v = random.Next(10) == 0 ? 0 : (random.NextDouble() - 0.3) * Math.Pow(10, random.Next(-3, 4));
                text.Append(CultureInfo.InvariantCulture, $" {j + first}:{(float)v:R}");
            }
            text.Append(r == 5 ? " # a comment\n" : "\n");
        }
        return Write(name, text.ToString());
    }

    private static SgdConversion Convert(string data, string output, int blockRows = 0, int blockNonZeros = 0, LibSvmOptions? options = null) =>
        SgdConverter.Convert(data, null, testSplit: false, output, blockRows, DataFormat.Auto, options, blockNonZeros: blockNonZeros);

    private static void AssertSameRows(SparseRows expected, SparseRows got)
    {
        Assert.Equal(expected.Dim, got.Dim);
        Assert.Equal(expected.RowStart, got.RowStart);
        Assert.Equal(expected.Columns, got.Columns);
        for (int e = 0; e < expected.Values.Length; e++)
            Assert.True(BitConverter.SingleToInt32Bits(expected.Values[e]) == BitConverter.SingleToInt32Bits(got.Values[e]),
                $"entry {e}: {expected.Values[e]:R} written, {got.Values[e]:R} read");
    }

    private static void AssertClose(double[] expected, double[] got, string what)
    {
        Assert.Equal(expected.Length, got.Length);
        for (int j = 0; j < expected.Length; j++)
            Assert.True(Math.Abs(got[j] - expected[j]) <= 1e-12 * Math.Abs(expected[j]) + 1e-300,
                $"{what} {j}: SparseTable {expected[j]:R}, footer {got[j]:R}");
    }

    [Theory]
    [InlineData(40, 1, 0)]        // one row per block
    [InlineData(41, 6, 0)]        // N not a multiple of R
    [InlineData(57, 0, 20)]       // blocks cut by non-zeros; the long row alone in its block
    [InlineData(57, 5, 13)]       // both limits
    [InlineData(300, 0, 0)]       // defaults: one block
    public void ARoundTripGivesBackSparseTableReadOfTheText(int rows, int blockRows, int blockNonZeros)
    {
        string data = MakeLibSvm("data.libsvm", rows, dim: 97);
        string sgd = PathOf("data.sgd");
        SgdConversion done = Convert(data, sgd, blockRows, blockNonZeros);
        SparseTable expected = SparseTable.Read(data, new LibSvmOptions());
        Assert.Equal(rows, done.Rows);
        Assert.Equal(expected.Dim, done.Dim);
        Assert.Equal(expected.X.NonZeros, done.NonZeros);
        Assert.True(SgdFormat.IsSparse(sgd));
        Assert.True(DataSource.IsSparseSgd(sgd));

        using SparseSgdReader reader = SparseSgdReader.Open(sgd);
        Assert.Equal(rows, reader.Rows);
        Assert.Equal(expected.Dim, reader.Dim);
        Assert.Equal(expected.X.NonZeros, reader.NonZeros);
        Assert.Equal(expected.FeatureNames, reader.FeatureNames);
        Assert.Equal(expected.DistinctClasses(), reader.ClassNames);
        Assert.Equal("label", reader.LabelName);

        SparseTable got = reader.ToSparseTable();
        AssertSameRows(expected.X, got.X);
        Assert.Equal(expected.Labels, got.Labels);
        Assert.Equal(expected.FeatureNames, got.FeatureNames);
        Assert.Equal(expected.Encode(reader.ClassNames), reader.ReadAll().Labels);

        // Block by block: the same rows, each block within both limits.
        var blockRowsRead = new List<int>();
        for (int b = 0; b < reader.Blocks; b++)
        {
            (SparseRows block, int[] labels) = reader.ReadBlock(b);
            int start = (int)reader.FirstRowOf(b);
            AssertSameRows(expected.X.Select(Enumerable.Range(start, block.Rows).ToArray()), block);
            Assert.Equal(expected.Encode(reader.ClassNames).AsSpan(start, block.Rows).ToArray(), labels);
            Assert.True(blockRows == 0 || block.Rows <= blockRows, $"block {b}: {block.Rows} rows");
            Assert.True(blockNonZeros == 0 || block.NonZeros <= blockNonZeros || block.Rows == 1, $"block {b}: {block.NonZeros} non-zeros");
            blockRowsRead.Add(block.Rows);
        }
        Assert.Equal(rows, blockRowsRead.Sum());

        foreach (FeatureScaling scaling in new[] { FeatureScaling.Std, FeatureScaling.MaxAbs, FeatureScaling.None })
        {
            Standardizer fit = expected.Statistics(scaling), stored = reader.Statistics(scaling);
            AssertClose(fit.Mean, stored.Mean, $"{scaling} mean");
            AssertClose(fit.Std, stored.Std, $"{scaling} scale");
        }
    }

    [Fact]
    public void ZeroBasedIndicesAndAGivenDRoundTrip()
    {
        string data = MakeLibSvm("zero.libsvm", 33, dim: 50, zeroBased: true);
        var options = new LibSvmOptions { ZeroBased = true, Features = 80 };
        string sgd = PathOf("zero.sgd");
        Convert(data, sgd, blockRows: 7, options: options);
        SparseTable expected = SparseTable.Read(data, options);
        using SparseSgdReader reader = SparseSgdReader.Open(sgd);
        Assert.Equal(80, reader.Dim);
        Assert.Equal(0, reader.FirstIndex);
        Assert.True(reader.ColumnsSeen <= 50);
        Assert.Equal(expected.FeatureNames, reader.FeatureNames);
        SparseTable got = reader.ToSparseTable();
        AssertSameRows(expected.X, got.X);
        AssertClose(expected.Statistics().Std, reader.Statistics().Std, "std");
        var e = Assert.Throws<DataFormatException>(() => reader.ToSparseTable(dim: reader.ColumnsSeen - 1, from: "the model"));
        Assert.Contains($"beyond the last feature, {reader.ColumnsSeen - 2} ({reader.ColumnsSeen - 1} features, from the model)", e.Message);
    }

    [Fact]
    public void ACorruptedBlockIsCaughtByItsChecksum()
    {
        string sgd = PathOf("data.sgd");
        Convert(MakeLibSvm("data.libsvm", 30, dim: 40), sgd, blockRows: 8);
        byte[] whole = File.ReadAllBytes(sgd);
        string bad = PathOf("bad.sgd");
        using (SparseSgdReader reader = SparseSgdReader.Open(sgd))
        {
            // A value byte in block 1: the footer still opens; reading block 1 (or all) fails, block 0 still reads.
            long at = SgdFormat.PreambleBytes + SgdFormat.SparseBlockBytes(reader.RowsIn(0), reader.NonZerosIn(0)) +
                      SgdFormat.SparseBlockBytes(reader.RowsIn(1), reader.NonZerosIn(1)) - SgdFormat.BlockChecksumBytes - 2;
            byte[] flipped = (byte[])whole.Clone();
            flipped[at] ^= 0x10;
            File.WriteAllBytes(bad, flipped);
        }
        using (SparseSgdReader damaged = SparseSgdReader.Open(bad))
        {
            damaged.ReadBlock(0);
            var e = Assert.Throws<DataFormatException>(() => damaged.ReadBlock(1));
            Assert.Equal($"{bad}: block 1 of {damaged.Blocks} (rows from 8) is corrupted (checksum mismatch)", e.Message);
            Assert.Throws<DataFormatException>(() => damaged.ReadAll());
        }

        // Any byte flipped anywhere: opening or reading the whole file says so, naming it.
        for (int at = 0; at < whole.Length; at++)
        {
            byte[] flipped = (byte[])whole.Clone();
            flipped[at] ^= 0x10;
            File.WriteAllBytes(bad, flipped);
            var e = Assert.ThrowsAny<DataFormatException>(() =>
            {
                using SparseSgdReader reader = SparseSgdReader.Open(bad);
                reader.ReadAll();
            });
            Assert.Contains(bad, e.Message);
        }
    }

    [Fact]
    public void ATruncatedFileIsRejectedWhereverItIsCut()
    {
        string sgd = PathOf("data.sgd");
        Convert(MakeLibSvm("data.libsvm", 20, dim: 30), sgd, blockRows: 6);
        byte[] whole = File.ReadAllBytes(sgd);
        string cut = PathOf("cut.sgd");
        foreach (int length in new[] { 1, 8, 12, 27, 28, 100, whole.Length - 40, whole.Length - 1 })
        {
            File.WriteAllBytes(cut, whole[..length]);
            var e = Assert.Throws<DataFormatException>(() => SparseSgdReader.Open(cut).Dispose());
            Assert.Contains(cut, e.Message);
        }
    }

    // The dense file of the first format (version 1, written by the writer of commit 2403f3b from iris.csv, R = 64):
    // still read as before, and told apart from a sparse one by both readers.
    [Fact]
    public void ADenseFileOfTheFirstFormatStillReads()
    {
        Assert.False(SgdFormat.IsSparse(DenseV1));
        Assert.False(DataSource.IsSparseSgd(DenseV1));
        Assert.Equal(1, SgdFormat.VersionOf(DenseV1));
        using (SgdReader reader = SgdReader.Open(DenseV1))
        {
            Assert.Equal(64, reader.BlockRows);
            Table expected = CsvTableReader.Read(Check.IrisPath);
            Table got = reader.ToTable();
            Assert.Equal(expected.Features, got.Features);
            Assert.Equal(expected.Labels, got.Labels);
            Assert.Equal(expected.FeatureNames, got.FeatureNames);
        }
        var e = Assert.Throws<DataFormatException>(() => SparseSgdReader.Open(DenseV1));
        Assert.Contains("a dense .sgd dataset (format version 1)", e.Message);

        string sgd = PathOf("sparse.sgd");
        Convert(MakeLibSvm("data.libsvm", 10, dim: 12), sgd);
        e = Assert.Throws<DataFormatException>(() => SgdReader.Open(sgd));
        Assert.Contains("a sparse .sgd dataset (format version 2", e.Message);
    }

    [Fact]
    public void ConvertWithDGivenAndNotGivenAndDenseOnRequest()
    {
        string data = MakeLibSvm("data.libsvm", 50, dim: 60);
        int largest = SparseTable.Read(data, new LibSvmOptions()).Dim;

        string found = PathOf("found.sgd");
        var convert = Run("convert", "--data", data, "--out", found, "--block-rows", "16");
        Assert.True(convert.Code == 0, convert.Err);
        Assert.Matches($@"converted: .* -> .*found\.sgd: 50 rows, {largest} features, 4 classes, [0-9]+ non-zeros \(sparse\); ", convert.Out);
        using (SparseSgdReader reader = SparseSgdReader.Open(found))
            Assert.Equal(largest, reader.Dim);

        string given = PathOf("given.sgd");
        convert = Run("convert", "--data", data, "--out", given, "--features", "100");
        Assert.True(convert.Code == 0, convert.Err);
        using (SparseSgdReader reader = SparseSgdReader.Open(given))
        {
            Assert.Equal(100, reader.Dim);
            Assert.Equal(largest, reader.ColumnsSeen);
            Assert.Equal("100", reader.FeatureNames[^1]);
        }

        string tooFew = PathOf("few.sgd");
        convert = Run("convert", "--data", data, "--out", tooFew, "--features", "3");
        Assert.Equal(1, convert.Code);
        Assert.Matches(@"line \d+, column \d+: index \d+ is beyond the last feature, 3 \(3 features, from --features 3\)", convert.Err);
        Assert.False(File.Exists(tooFew));

        string dense = PathOf("dense.sgd");
        convert = Run("convert", "--data", data, "--out", dense, "--sparse", "off");
        Assert.True(convert.Code == 0, convert.Err);
        Assert.Equal(1, SgdFormat.VersionOf(dense));
        using (SgdReader reader = SgdReader.Open(dense))
        {
            var x = new float[50 * largest];
            SparseTable.Read(data, new LibSvmOptions()).X.Densify(0, 50, x);
            Assert.Equal(x, reader.ToTable().Features);
        }

        var csvSparse = Run("convert", "--data", Check.IrisPath, "--out", PathOf("iris.sgd"), "--sparse", "on");
        Assert.Equal(1, csvSparse.Code);
        Assert.Contains("--sparse on writes LIBSVM rows sparse", csvSparse.Err);
        Assert.Empty(Directory.GetFiles(Folder, "*.tmp"));
    }

    [Theory]
    [InlineData("a 1:2\nb 3:x\n", "line 2, column 5: the value 'x' of index 3 is not a number")]
    [InlineData("a 1:2\nb 3:1 2:1\n", "line 2, column 7: index 2 comes after index 3; indices must increase within a line")]
    [InlineData("a 1:2\n1:3\n", "line 2, column 1: the label is missing")]
    [InlineData("a 0:2\n", "line 1, column 3: index 0, but LIBSVM indices start at 1")]
    [InlineData("a 1:1e39\n", "line 1, column 5: the value '1e39' of index 1 is not a finite number")]
    [InlineData("# only a comment\n\n", "no data rows")]
    [InlineData("a\nb\n", "no line has an index:value entry, so the number of features is unknown; give --features N")]
    [InlineData("a 1:1\na 2:2\n", "one class")]
    public void BadLibSvmStopsConvertWithTheReadersErrorAndNoFile(string content, string expected)
    {
        string data = Write("bad.libsvm", content);
        string output = PathOf("out.sgd");
        var convert = Run("convert", "--data", data, "--out", output);
        Assert.Equal(1, convert.Code);
        Assert.Contains(data, convert.Err);
        Assert.Contains(expected, convert.Err);
        Assert.StartsWith("error: ", convert.Err.Split('\n').Single(l => l.StartsWith("error:")));
        Assert.DoesNotContain("   at ", convert.Err);
        Assert.False(File.Exists(output), "no dataset may be written on bad input");
        Assert.Empty(Directory.GetFiles(Folder, "*.tmp", SearchOption.AllDirectories));
        if (expected.StartsWith("line", StringComparison.Ordinal))
        {
            var e = Assert.Throws<DataFormatException>(() => SparseTable.Read(data, new LibSvmOptions()));
            Assert.Contains(e.Message, convert.Err); // the text reader's own message, word for word
        }
    }

    // A killed convert leaves ".out.sgd.PID.tmp" behind; the next convert of the same target removes it.
    [Fact]
    public void AStaleTemporaryFileOfAKilledConvertIsRemoved()
    {
        string stale = Write($".out.sgd.{int.MaxValue - 7}.tmp", "left by a convert that was killed");
        var convert = Run("convert", "--data", MakeLibSvm("data.libsvm", 12, dim: 9), "--out", PathOf("out.sgd"));
        Assert.True(convert.Code == 0, convert.Err);
        Assert.False(File.Exists(stale));
    }

    [Fact]
    public void TrainFromASparseSgdFileMatchesTrainFromTheText()
    {
        string data = MakeLibSvm("data.libsvm", 120, dim: 30);
        string sgd = PathOf("data.sgd");
        Assert.Equal(0, Run("convert", "--data", data, "--out", sgd, "--block-rows", "50").Code);
        var fromText = Run("train", "--data", data, "--model", PathOf("a.model"), "--sparse", "on");
        var fromSgd = Run("train", "--data", sgd, "--model", PathOf("b.model"), "--sparse", "on");
        Assert.True(fromText.Code == 0, fromText.Err);
        Assert.True(fromSgd.Code == 0, fromSgd.Err);
        Assert.Contains("kept sparse", fromSgd.Out);
        Check.Close(Objective(fromText.Out), Objective(fromSgd.Out), 0, 1e-6, "J from a sparse .sgd file vs the LIBSVM text");

        var evaluate = Run("evaluate", "--model", PathOf("b.model"), "--data", sgd);
        var evaluateText = Run("evaluate", "--model", PathOf("b.model"), "--data", data);
        Assert.True(evaluate.Code == 0, evaluate.Err);
        Assert.Equal(evaluateText.Out, evaluate.Out);

        // Streamed through a device (ILGPU's CPU accelerator) under a small --device-memory: the same optimum.
        var streamed = Run("train", "--data", sgd, "--model", PathOf("d.model"), "--sparse", "on", "--device", "cpu",
            "--device-memory", "8KiB");
        Assert.True(streamed.Code == 0, streamed.Err);
        Assert.Contains("streamed through the device", streamed.Out);
        Check.Close(Objective(fromText.Out), Objective(streamed.Out), 0, 1e-6, "J from a sparse .sgd file streamed through a device");

        var dense = Run("train", "--data", sgd, "--model", PathOf("c.model"), "--sparse", "off");
        Assert.True(dense.Code == 0, dense.Err);
        Check.Close(Objective(fromText.Out), Objective(dense.Out), 0, 1e-4, "J from the sparse .sgd file made dense");
    }

    /// <summary>Every row (label, columns, value bits) a reader gives, or its error message.</summary>
    private static string ReadEverything(string path, LibSvmOptions options)
    {
        var text = new StringBuilder();
        try
        {
            using LibSvmRowReader reader = LibSvmRowReader.OnePass(path, options);
            while (reader.NextSparse(out string label, out ReadOnlySpan<int> columns, out ReadOnlySpan<float> values))
            {
                text.Append(label).Append('|');
                for (int e = 0; e < columns.Length; e++)
                    text.Append(CultureInfo.InvariantCulture, $"{columns[e]}:{BitConverter.SingleToInt32Bits(values[e]):x8} ");
                text.Append('\n');
            }
        }
        catch (DataFormatException e)
        {
            text.Append("error: ").Append(e.Message.Replace(path, "FILE", StringComparison.Ordinal));
        }
        return text.ToString();
    }

    // The byte parser (UTF-8 files) against the text parser it falls back to, which a UTF-16 file takes throughout:
    // the same rows and the same errors, on line ends of every kind, a byte order mark, non-ASCII labels, qids, tabs,
    // numbers of every shape, a line longer than the 1 MiB buffer, and malformed lines.
    [Theory]
    [InlineData("")]
    [InlineData("x 1:2 3:4")]
    [InlineData("b 2:3\n4:5")]
    [InlineData("c 1:1 1:2")]
    [InlineData("d 5:1e39")]
    [InlineData("e 3:0x10")]
    [InlineData("f 1:2:3")]
    [InlineData("g -1:3")]
    [InlineData("h 99999999999:1")]
    public void TheByteParserReadsWhatTheTextParserReads(string lastLine)
    {
        var random = new Random(3);
        var lines = new List<string> { "# header", "", "  \t ", "café 1:0.145202741 7:1e-5\t9:-0", "1 qid:4 2:3.5 # note", "ünï 3:.5 4:5." };
        for (int r = 0; r < 400; r++)
        {
            double v = (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-30, 30));
            string number = random.Next(5) switch
            {
                0 => v.ToString("R", CultureInfo.InvariantCulture),
                1 => v.ToString("G9", CultureInfo.InvariantCulture),
                2 => v.ToString("E3", CultureInfo.InvariantCulture),
                3 => random.Next(-1000, 1000).ToString(CultureInfo.InvariantCulture),
                _ => random.NextDouble().ToString("F9", CultureInfo.InvariantCulture),
            };
            lines.Add($"{(r % 3 == 0 ? "+1" : "-1")}  {random.Next(1, 50)}:{number} 60:1 0070:2");
        }
        lines.Add("long " + string.Join(' ', Enumerable.Range(100, 120_000).Select(i => $"{i}:0.123456789")));
        lines.Add(lastLine);
        string[] ends = ["\n", "\r\n", "\r"];
        var content = new StringBuilder();
        for (int i = 0; i < lines.Count; i++)
            content.Append(lines[i]).Append(i == lines.Count - 1 ? "" : ends[i % 3]);

        string utf8 = PathOf("rows.libsvm"), withBom = PathOf("bom.libsvm"), utf16 = PathOf("wide.libsvm");
        File.WriteAllText(utf8, content.ToString(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        File.WriteAllText(withBom, content.ToString(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        File.WriteAllText(utf16, content.ToString(), Encoding.Unicode);
        var options = new LibSvmOptions();
        string expected = ReadEverything(utf16, options);
        Assert.Contains("long|", expected); // the rows before the last line were read
        Assert.Equal(expected, ReadEverything(utf8, options));
        Assert.Equal(expected, ReadEverything(withBom, options));
    }

    private static double Objective(string trainOutput) =>
        double.Parse(trainOutput.Split("objective ")[^1].Split(';')[0], CultureInfo.InvariantCulture);
}
