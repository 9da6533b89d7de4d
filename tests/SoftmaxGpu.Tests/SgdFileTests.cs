using System.Globalization;
using System.Text;
using SoftmaxGpu.Cli;
using SoftmaxGpu.Data;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// The .sgd dataset file and <c>softmaxgpu convert</c>: a round trip must give back exactly what the CSV
/// reader gives (the CSV reader is the trusted second implementation), at every block boundary; a damaged or
/// foreign file, and every CSV that training rejects, must fail with a message naming the file.
/// </summary>
public sealed class SgdFileTests() : CliFolder("softmaxgpu-sgd-")
{
    /// <summary>
    /// A seeded CSV of N rows: 3 features (one constant, one with large magnitudes and odd fractions) and an
    /// integer label whose first appearances are out of numeric order (10, 9, 2, …).
    /// </summary>
    private string MakeCsv(string name, int rows, int seed = 39)
    {
        var random = new Random(seed);
        string[] labels = ["10", "9", "2", "-1"];
        var text = new StringBuilder("a,const,big,label\n");
        for (int r = 0; r < rows; r++)
        {
            double a = random.NextDouble() * 2 - 1;
            double big = (random.NextDouble() - 0.5) * 3e7;
            string label = r < labels.Length ? labels[r] : labels[random.Next(labels.Length)];
            text.Append(CultureInfo.InvariantCulture, $"{a:R},7.25,{big:R},{label}\n");
        }
        return Write(name, text.ToString());
    }

    /// <summary>
    /// A streamed source's rows (<see cref="SgdRowSource"/>) and a table's (<see cref="Standardizer.Apply"/>), both
    /// standardized in vectors with the rows split over the cores, are the scalar float64 form's floats bit for bit:
    /// D = 37 (vectors and a scalar tail), magnitudes from 1e-3 to 3e7, a constant column, read whole (two workers) and in
    /// blocks of 1,000 rows (one).
    /// </summary>
    [Fact]
    public void AStreamedSourceStandardizesAsTheTableDoes()
    {
        const int rows = 15000, d = 37;
        var random = new Random(11);
        var text = new StringBuilder(string.Join(',', Enumerable.Range(0, d).Select(j => $"x{j}")) + ",label\n");
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < d; j++)
                text.Append(CultureInfo.InvariantCulture, $"{(j == 5 ? 2.5 : (random.NextDouble() - 0.3) * Math.Pow(10, j % 11 - 3)):R},");
            text.Append(CultureInfo.InvariantCulture, $"c{random.Next(3)}\n");
        }
        string csv = Write("wide.csv", text.ToString()), sgd = PathOf("wide.sgd");
        Convert(csv, sgd);
        Table table = CsvTableReader.Read(csv);
        Standardizer standardizer = Standardizer.Fit(table.Features, table.Rows, table.Dim);
        float[] expected = [.. table.Features.Select((x, i) => (float)((x - standardizer.Mean[i % d]) / standardizer.Std[i % d]))];
        Assert.Equal(expected, standardizer.Apply(table.Features));
        using SgdReader reader = SgdReader.Open(sgd);
        var source = new SgdRowSource(reader, standardizer, table.DistinctClasses());
        foreach (int block in new[] { rows, 1000 })
        {
            var features = new float[rows * d];
            var labels = new int[rows];
            for (int start = 0; start < rows; start += block)
                source.Read(start, block, new RowBlock(features.AsSpan(start * d, block * d), labels.AsSpan(start, block), default));
            Assert.Equal(expected, features);
            Assert.Equal(table.Encode(table.DistinctClasses()), labels);
        }
    }

    private static SgdConversion Convert(string csv, string output, int blockRows = 0, string? label = null) =>
        SgdConverter.Convert(csv, label, testSplit: false, output, blockRows);

    private static void AssertSameTable(Table expected, Table got)
    {
        Assert.Equal(expected.FeatureNames, got.FeatureNames);
        Assert.Equal(expected.LabelName, got.LabelName);
        Assert.Equal(expected.Labels, got.Labels);
        Assert.Equal(expected.DistinctClasses(), got.DistinctClasses());
        Assert.Equal(expected.Features.Length, got.Features.Length);
        for (int i = 0; i < expected.Features.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected.Features[i]) == BitConverter.SingleToInt32Bits(got.Features[i]),
                $"feature {i}: {expected.Features[i]:R} written, {got.Features[i]:R} read");
    }

    [Theory]
    [InlineData(6, 1)]      // one row per block
    [InlineData(17, 4)]     // N not a multiple of R
    [InlineData(17, 8)]     // the last block holds one row
    [InlineData(17, 17)]    // exactly one full block
    [InlineData(42, 0)]     // automatic R: a single partial block
    public void ARoundTripGivesBackTheCsvBitForBit(int rows, int blockRows)
    {
        string csv = MakeCsv("data.csv", rows);
        string sgd = PathOf("data.sgd");
        SgdConversion done = Convert(csv, sgd, blockRows);
        Table expected = CsvTableReader.Read(csv);
        Assert.Equal(rows, done.Rows);
        Assert.Equal(3, done.Dim);
        Assert.Equal(expected.DistinctClasses().Length, done.Classes);

        using SgdReader reader = SgdReader.Open(sgd);
        Assert.Equal(rows, reader.Rows);
        Assert.Equal(blockRows == 0 ? SgdFormat.DefaultBlockRows : blockRows, reader.BlockRows);
        Assert.Equal((rows + reader.BlockRows - 1) / reader.BlockRows, reader.Blocks);
        Assert.Equal(expected.DistinctClasses(), reader.ClassNames);
        AssertSameTable(expected, reader.ToTable());
        AssertSameTable(expected, DataSource.Load(sgd, null, testSplit: false));

        Standardizer fit = Standardizer.Fit(expected.Features, expected.Rows, expected.Dim);
        Standardizer stored = reader.Standardizer();
        for (int j = 0; j < expected.Dim; j++)
        {
            // Welford in one pass beside Fit's two passes, in float64: the same within rounding.
            Assert.True(Math.Abs(stored.Mean[j] - fit.Mean[j]) <= 1e-12 * (Math.Abs(fit.Mean[j]) + fit.Std[j]),
                $"mean {j}: stored {stored.Mean[j]:R}, Standardizer.Fit {fit.Mean[j]:R}");
            Assert.True(Math.Abs(stored.Std[j] - fit.Std[j]) <= 1e-12 * fit.Std[j],
                $"std {j}: stored {stored.Std[j]:R}, Standardizer.Fit {fit.Std[j]:R}");
        }
        Assert.Equal(0.0, reader.Std[1]); // the constant column: stored as is, 1 only when standardizing
    }

    // FloatText's fast path must give float.TryParse's float, bit for bit, on every shape of number text.
    /// <summary>A .sgd file is known by its magic whatever its name (renamed .csv it was read as CSV text), and is not converted again.</summary>
    [Fact]
    public void ASgdFileIsKnownByItsMagicUnderAnyNameAndIsNotConvertedAgain()
    {
        string sgd = PathOf("iris.sgd"), renamed = PathOf("iris-binary.csv");
        var convert = Run("convert", "--data", Check.IrisPath, "--out", sgd);
        Assert.True(convert.Code == 0, convert.Err);
        File.Copy(sgd, renamed);
        var byName = Run("train", "--data", sgd, "--model", PathOf("a"), "--quiet");
        var byMagic = Run("train", "--data", renamed, "--model", PathOf("b"), "--quiet");
        Assert.True(byMagic.Code == 0, byMagic.Err);
        string Objective(string output) => output.Split("objective ")[^1].Split(';')[0];
        Assert.Equal(Objective(byName.Out), Objective(byMagic.Out));
        foreach (string data in (string[])[sgd, renamed])
        {
            var again = Run("convert", "--data", data, "--out", PathOf("again.sgd"));
            Assert.Equal(1, again.Code);
            Assert.Contains($"{data} is a .sgd file already", again.Err);
        }
        // LIBSVM's options on it: its features were fixed by convert (not "give --format libsvm", though it was given).
        var features = Run("train", "--data", sgd, "--features", "3", "--format", "libsvm", "--model", PathOf("c"));
        Assert.Equal(1, features.Code);
        Assert.Contains($"--zero-based and --features apply to LIBSVM text, and {sgd} is a .sgd file, whose features were fixed when it was converted", features.Err);
    }

    [Fact]
    public void FastFloatParsingAgreesWithFloatTryParse()
    {
        var random = new Random(42);
        var texts = new List<string>
        {
            "0", "-0", "+0", "1.", ".5", "-.5", "16777216", "16777217", "33554433", "0.1", "1e10", "1e-10", "1e11",
            "9.99999e-11", "1e", "1e+", "e5", ".", "-", "", " 1", "1 ", "NaN", "-Infinity", "1e39", "1,5", "0x10",
            "3.4028235e38", "1.17549435e-38", "0.000000000000000000000000000000000000000000001", "00000000000000000001.5",
            "0.145202741", "0.0886640251", "9007199254740992", "9007199254740993", "1.17549435e-38", "1.1754942e-38",
            "3.40282357e38", "3.4028236e38", "0.0000000000000000000001", "1e22", "1e23", "1e-22", "16777217e-22",
            "0.50000003", "0.500000029802322387695312", "1.00000005960464477539", "1.0000000596046448",
        };
        // Halfway between two floats, written with up to 17 digits: where rounding through float64 could go wrong.
        for (int i = 0; i < 2000; i++)
        {
            float below = BitConverter.Int32BitsToSingle(random.Next(0x00800000, 0x7F000000));
            double midpoint = ((double)below + BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(below) + 1)) / 2;
            texts.Add(midpoint.ToString("G17", CultureInfo.InvariantCulture));
            texts.Add(midpoint.ToString("G16", CultureInfo.InvariantCulture));
            texts.Add(random.NextDouble().ToString("F9", CultureInfo.InvariantCulture));
        }
        for (int i = 0; i < 20000; i++)
        {
            double x = (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-14, 14));
            string format = random.Next(4) switch { 0 => "G6", 1 => "G7", 2 => "G9", _ => "R" };
            texts.Add(x.ToString(format, CultureInfo.InvariantCulture));
            texts.Add(random.Next(-20000000, 20000000).ToString(CultureInfo.InvariantCulture) + "e" + random.Next(-12, 12));
        }
        foreach (string text in texts)
        {
            bool expectedOk = float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float expected);
            bool ok = FloatText.TryParse(Encoding.UTF8.GetBytes(text), out float got);
            Assert.True(expectedOk == ok, $"'{text}': float.TryParse says {expectedOk}, FloatText {ok}");
            if (ok)
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(got),
                    $"'{text}': float.TryParse {expected:R}, FloatText {got:R}");
        }
    }

    [Fact]
    public void ReadRowsAcrossBlockBoundariesGivesTheSameRowsAsTheTable()
    {
        string csv = MakeCsv("data.csv", 23);
        string sgd = PathOf("data.sgd");
        Convert(csv, sgd, blockRows: 5);
        Table expected = CsvTableReader.Read(csv);
        int[] encoded = expected.Encode(expected.DistinctClasses());
        using SgdReader reader = SgdReader.Open(sgd);
        foreach ((long start, int count) in new[] { (3L, 9), (0L, 23), (22L, 1), (5L, 5), (4L, 2), (3L, 9) })
        {
            var features = new float[count * 3];
            var labels = new int[count];
            reader.ReadRows(start, count, features, labels);
            Assert.Equal(expected.Features.AsSpan((int)start * 3, count * 3).ToArray(), features);
            Assert.Equal(encoded.AsSpan((int)start, count).ToArray(), labels);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => reader.ReadRows(20, 4, new float[12], new int[4]));
    }

    [Fact]
    public void TextLabelsAndALabelColumnInTheMiddleRoundTrip()
    {
        string csv = Write("text.csv", "x,kind,y\n1,dog,2\n3,cat,4\n5,Dog,6\n7,cat,8\n");
        string sgd = PathOf("text.sgd");
        Convert(csv, sgd, blockRows: 3, label: "kind");
        AssertSameTable(CsvTableReader.Read(csv, "kind"), SgdReader.Open(sgd).ToTableAndDispose());
    }

    [Fact]
    public void ATruncatedFileIsRejectedWhereverItIsCut()
    {
        string sgd = PathOf("data.sgd");
        Convert(MakeCsv("data.csv", 9), sgd, blockRows: 4);
        byte[] whole = File.ReadAllBytes(sgd);
        string cut = PathOf("cut.sgd");
        foreach (int length in new[] { 1, 8, 20, 27, 28, 100, whole.Length - 40, whole.Length - 1 })
        {
            File.WriteAllBytes(cut, whole[..length]);
            var e = Assert.Throws<DataFormatException>(() => SgdReader.Open(cut).ToTableAndDispose());
            Assert.Contains(cut, e.Message);
            Assert.True(e.Message.Contains("truncated") || e.Message.Contains("bad magic"), $"cut at {length}: {e.Message}");
        }
    }

    [Fact]
    public void EveryFlippedByteIsCaught()
    {
        string sgd = PathOf("data.sgd");
        Convert(MakeCsv("data.csv", 9), sgd, blockRows: 4);
        byte[] whole = File.ReadAllBytes(sgd);
        string bad = PathOf("bad.sgd");
        for (int at = 0; at < whole.Length; at++)
        {
            byte[] flipped = (byte[])whole.Clone();
            flipped[at] ^= 0x10;
            File.WriteAllBytes(bad, flipped);
            var e = Assert.Throws<DataFormatException>(() => SgdReader.Open(bad).ToTableAndDispose());
            Assert.Contains(bad, e.Message);
        }
    }

    [Theory]
    [InlineData("", "the file is empty")]
    [InlineData("a,b,label\n1,2,x\n", "bad magic")]
    [InlineData("SMXGPUDS", "truncated")]
    public void AnEmptyOrForeignFileIsRejected(string content, string expected)
    {
        string path = Write("foreign.sgd", content);
        var e = Assert.Throws<DataFormatException>(() => SgdReader.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
        var train = Run("train", "--data", path, "--model", PathOf("m"), "--epochs", "1");
        Assert.Equal(1, train.Code);
        Assert.Contains(expected, train.Err);
        Assert.False(File.Exists(PathOf("m")));
    }

    [Fact]
    public void AFileOfAnotherVersionIsRejected()
    {
        string sgd = PathOf("data.sgd");
        Convert(MakeCsv("data.csv", 5), sgd);
        byte[] bytes = File.ReadAllBytes(sgd);
        bytes[8] = 4;
        File.WriteAllBytes(sgd, bytes);
        var e = Assert.Throws<DataFormatException>(() => SgdReader.Open(sgd));
        Assert.Contains("dataset format version 4; this build reads versions 1 and 3 (dense) and 2 (sparse) (the file comes from a " +
                        "newer SoftmaxGpu: update this one)", e.Message);
    }

    // Every input train rejects (BadCsv): convert says what train says, and writes nothing.
    [Theory]
    [MemberData(nameof(BadCsv.Inputs), MemberType = typeof(BadCsv))]
    public void BadCsvIsRejectedAsTrainRejectsIt(string name, string? content, string expected)
    {
        string data = content is null ? PathOf("absent.csv") : Write($"{name}.csv", content);
        string output = PathOf("out.sgd");
        var convert = Run("convert", "--data", data, "--out", output);
        var train = Run("train", "--data", data, "--model", PathOf("model"), "--epochs", "1");
        Assert.Equal(1, convert.Code);
        Assert.Contains(expected, convert.Err);
        Assert.Contains(data, convert.Err);
        Assert.Equal(train.Err.Split('\n').Single(l => l.StartsWith("error:")), convert.Err.Split('\n').Single(l => l.StartsWith("error:")));
        Assert.False(File.Exists(output), "no dataset may be written on bad input");
        Assert.Empty(Directory.GetFiles(Folder, "*.tmp"));
    }

    [Fact]
    public void LabelNamingNoColumnIsRejectedByConvert()
    {
        string data = Write("good.csv", "a,b,label\n1,2,x\n2,1,y\n");
        var result = Run("convert", "--data", data, "--label", "species", "--out", PathOf("out.sgd"));
        Assert.Equal(1, result.Code);
        Assert.Contains("no column named 'species' for the labels (--label names it; a model knows its own); the columns are: a, b, label", result.Err);
        Assert.False(File.Exists(PathOf("out.sgd")));
    }

    [Fact]
    public void TooLargeABlockIsRejectedByName()
    {
        var result = Run("convert", "--data", Check.IrisPath, "--out", PathOf("iris.sgd"), "--block-rows", "100000000");
        Assert.Equal(1, result.Code);
        Assert.Contains("--block-rows 100000000: a block of 4 features a row would exceed 64 MiB", result.Err);
        Assert.False(File.Exists(PathOf("iris.sgd")));
    }

    // A tiny MNIST-style Folder (IDX, big-endian headers): train and t10k files, as IdxTableReader reads them.
    [Fact]
    public void AnIdxFolderConvertsItsTrainOrTestFiles()
    {
        string mnist = Directory.CreateDirectory(PathOf("mnist")).FullName;
        void Idx(string name, int magic, int[] shape, byte[] data)
        {
            using var file = new BinaryWriter(File.Create(Path.Combine(mnist, name)));
            foreach (int v in new[] { magic }.Concat(shape))
                file.Write(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v));
            file.Write(data);
        }
        Idx("train-images-idx3-ubyte", 0x803, [3, 2, 2], [0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
        Idx("train-labels-idx1-ubyte", 0x801, [3], [7, 1, 7]);
        Idx("t10k-images-idx3-ubyte", 0x803, [2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
        Idx("t10k-labels-idx1-ubyte", 0x801, [2], [3, 4]);
        foreach (bool test in new[] { false, true })
        {
            string sgd = PathOf($"mnist-{test}.sgd");
            var convert = Run(test ? ["convert", "--data", mnist, "--test", "--out", sgd] : ["convert", "--data", mnist, "--out", sgd]);
            Assert.True(convert.Code == 0, convert.Err);
            Table expected = IdxTableReader.Read(mnist, test);
            using SgdReader reader = SgdReader.Open(sgd);
            Table got = reader.ToTable();
            Assert.Equal(expected.Features, got.Features);
            Assert.Equal(expected.Labels, got.Labels);
            Assert.Equal(expected.FeatureNames, got.FeatureNames);
        }
    }

    // IDX files are read row by row: a gzipped folder converts to the same rows, and a file that ends before its
    // header's count is an error naming that file, with nothing written.
    [Fact]
    public void IdxFilesStreamGzippedOrEndEarlyWithAClearError()
    {
        string plain = Directory.CreateDirectory(PathOf("plain")).FullName;
        string zipped = Directory.CreateDirectory(PathOf("zipped")).FullName;
        string cut = Directory.CreateDirectory(PathOf("cut")).FullName;
        byte[] Idx(int magic, int[] shape, byte[] data) =>
            [.. new[] { magic }.Concat(shape).SelectMany(v => BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v))), .. data];
        byte[] images = Idx(0x803, [3, 2, 2], [0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
        byte[] labels = Idx(0x801, [3], [7, 1, 7]);
        File.WriteAllBytes(Path.Combine(plain, "train-images-idx3-ubyte"), images);
        File.WriteAllBytes(Path.Combine(plain, "train-labels-idx1-ubyte"), labels);
        foreach ((string name, byte[] bytes) in new[] { ("train-images-idx3-ubyte.gz", images), ("train-labels-idx1-ubyte.gz", labels) })
        {
            using var gzip = new System.IO.Compression.GZipStream(File.Create(Path.Combine(zipped, name)), System.IO.Compression.CompressionLevel.Fastest);
            gzip.Write(bytes);
        }
        File.WriteAllBytes(Path.Combine(cut, "train-images-idx3-ubyte"), images[..^3]);
        File.WriteAllBytes(Path.Combine(cut, "train-labels-idx1-ubyte"), labels);

        foreach (string folder in new[] { plain, zipped })
            Assert.True(Run("convert", "--data", folder, "--out", folder + ".sgd").Code == 0, folder);
        Assert.Equal(File.ReadAllBytes(plain + ".sgd"), File.ReadAllBytes(zipped + ".sgd"));

        var failed = Run("convert", "--data", cut, "--out", cut + ".sgd");
        Assert.NotEqual(0, failed.Code);
        Assert.Contains(Path.Combine(cut, "train-images-idx3-ubyte") + ": the file ends at row 3 of the 3", failed.Err);
        Assert.False(File.Exists(cut + ".sgd"));
    }

    [Fact]
    public void ConvertThenTrainAndEvaluateOnTheSgdFile()
    {
        string sgd = PathOf("iris.sgd");
        var convert = Run("convert", "--data", Check.IrisPath, "--out", sgd, "--block-rows", "64");
        Assert.True(convert.Code == 0, convert.Err);
        Assert.Matches(@"converted: .* -> .*iris\.sgd: 150 rows, 4 features, 3 classes; [0-9.]+ MB in [0-9.]+ s \([0-9.]+ MB/s\)", convert.Out);

        string model = PathOf("iris.model");
        var train = Run("train", "--data", sgd, "--model", model, "--epochs", "2", "--device", "cpu", "--val", sgd);
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("150 rows, 4 features", train.Out);
        var evaluate = Run("evaluate", "--model", model, "--data", sgd, "--device", "cpu");
        Assert.True(evaluate.Code == 0, evaluate.Err);
        Assert.Contains("rows      150", evaluate.Out);
        var fromCsv = Run("evaluate", "--model", model, "--data", Check.IrisPath, "--device", "cpu");
        Assert.Equal(fromCsv.Out, evaluate.Out);
        var predict = Run("predict", "--model", model, "--data", sgd, "--out", PathOf("p.csv"), "--device", "cpu");
        Assert.True(predict.Code == 0, predict.Err);

        var otherLabel = Run("train", "--data", sgd, "--label", "sepal_length", "--model", PathOf("other.model"));
        Assert.Equal(1, otherLabel.Code);
        Assert.Contains("the label column of a .sgd file is fixed when it is converted", otherLabel.Err);
        Assert.False(File.Exists(PathOf("other.model")));
    }
}

/// <summary>
/// Dense .sgd files of version 3: rows that carry target rows (probabilities, tags) and weights. A round trip gives back
/// exactly what train's table readers give of the CSV (<see cref="Weighting"/>, <see cref="TagTable"/>: the trusted second
/// implementation); their bytes are under the block checksum; a file of labels alone is still version 1; a version 3 file
/// written by this commit's writer keeps reading.
/// </summary>
public sealed class SgdTargetsFileTests() : CliFolder("softmaxgpu-sgd-targets-")
{
    private static readonly string Committed = Path.Combine(AppContext.BaseDirectory, "data", "iris-soft-weighted-v3.sgd");
    private static readonly string CommittedCsv = Path.Combine(AppContext.BaseDirectory, "data", "iris-soft-weighted.csv");

    /// <summary>Every row of the file: raw features, labels as text, target rows and weights (empty where the file has none).</summary>
    private static (float[] Features, string[] Labels, float[] Targets, float[] Weights) ReadAll(string sgd)
    {
        using SgdReader reader = SgdReader.Open(sgd);
        int n = (int)reader.Rows;
        var features = new float[n * reader.Dim];
        var labels = new int[n];
        var targets = new float[n * reader.TargetWidth];
        var weights = new float[reader.HasWeights ? n : 0];
        reader.ReadRows(0, n, features, labels, targets, weights);
        return (features, labels.Select(k => reader.ClassNames[k]).ToArray(), targets, weights);
    }

    private static void AssertBits(float[] expected, float[] got, string what)
    {
        Assert.Equal(expected.Length, got.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(got[i]),
                $"{what} {i}: {expected[i]:R} from the CSV, {got[i]:R} from the file");
    }

    /// <summary>Probability rows and weights as train reads them from the CSV (<see cref="Weighting.Load"/>, <see cref="Weighting.TakeColumns"/>).</summary>
    private static void AssertSameAsTrainReads(string csv, string sgd)
    {
        var options = new Training.TrainOptions { TargetColumns = ["p0", "p1", "p2"], WeightColumn = "w" };
        (Table table, float[]? targets, float[]? weights) =
            Weighting.TakeColumns(Weighting.Load(csv, null, options, training: true), options, weightsNeeded: true);
        using (SgdReader reader = SgdReader.Open(sgd))
        {
            Assert.Equal(SgdFormat.TargetsVersion, SgdFormat.VersionOf(sgd));
            Assert.Equal(RowTargetKind.Probabilities, reader.Targets.Kind);
            Assert.Equal(["p0", "p1", "p2"], reader.ClassNames);
            Assert.Equal("w", reader.Targets.WeightColumn);
            Assert.Equal(table.FeatureNames, reader.FeatureNames);
        }
        (float[] features, string[] labels, float[] fileTargets, float[] fileWeights) = ReadAll(sgd);
        AssertBits(table.Features, features, "feature");
        Assert.Equal(table.Labels, labels); // the largest target's class
        AssertBits(targets!, fileTargets, "target");
        AssertBits(weights!, fileWeights, "weight");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]   // the last block of 3 rows
    [InlineData(0)]   // one block
    public void ProbabilityTargetsAndWeightsRoundTripAsTrainReadsThem(int blockRows)
    {
        (string soft, _) = TargetData.Write(Folder);
        string sgd = PathOf("soft.sgd");
        SgdConverter.Convert(soft, null, testSplit: false, sgd, blockRows,
            targets: RowTargets.For(null, false, ["p0", "p1", "p2"], "w"));
        AssertSameAsTrainReads(soft, sgd);
    }

    [Theory]
    [InlineData("t0,t1,t2,t3", "tags")]
    [InlineData("tags", "t0,t1,t2,t3")]
    public void TagSetsRoundTripAsTrainReadsThem(string label, string ignore)
    {
        string csv = TargetData.Tagged(Folder);
        var csvOptions = new CsvOptions { Ignore = ignore.Split(',') };
        string sgd = PathOf("tags.sgd");
        SgdConverter.Convert(csv, null, testSplit: false, sgd, blockRows: 9, csv: csvOptions, targets: RowTargets.For(label, true, null, null));
        Table table = TagTable.Load(csv, label, csv: csvOptions);
        string[] tags = TagTable.TagColumns(label) ?? TagTable.DistinctTags(table);
        using (SgdReader reader = SgdReader.Open(sgd))
        {
            Assert.Equal(tags, reader.ClassNames);
            Assert.Equal(label.Contains(',') ? RowTargetKind.MultiLabelColumns : RowTargetKind.MultiLabelTags, reader.Targets.Kind);
            Assert.Equal(table.LabelName, reader.LabelName);
            Assert.Equal(table.Labels, reader.ToTable().Labels); // the tags read back as a tags column
        }
        (float[] features, _, float[] targets, float[] weights) = ReadAll(sgd);
        AssertBits(table.Features, features, "feature");
        AssertBits(TagTable.Encode(table, tags), targets, "tag");
        Assert.Empty(weights);
    }

    [Fact]
    public void AFileOfLabelsAloneIsStillVersion1()
    {
        string sgd = PathOf("iris.sgd");
        Assert.Equal(0, Run("convert", "--data", Check.IrisPath, "--out", sgd).Code);
        Assert.Equal(SgdFormat.Version, SgdFormat.VersionOf(sgd));
        using SgdReader reader = SgdReader.Open(sgd);
        Assert.True(reader.Targets.LabelsOnly);
        Assert.Equal(0, reader.TargetWidth);
    }

    // Every byte of a block's target rows and weights is under its checksum: a flipped one is an error naming the block.
    [Fact]
    public void CorruptedTargetOrWeightBytesAreCaughtByTheChecksum()
    {
        (string soft, _) = TargetData.Write(Folder);
        string sgd = PathOf("soft.sgd");
        SgdConverter.Convert(soft, null, testSplit: false, sgd, blockRows: 4, targets: RowTargets.For(null, false, ["p0", "p1", "p2"], "w"));
        byte[] whole = File.ReadAllBytes(sgd);
        var layout = new SgdBlockLayout(4, 3, Weights: true); // iris's 4 features; p0..p2 and w taken out
        long block1 = SgdFormat.PreambleBytes + layout.Bytes(4);
        (long from, long to) = (block1 + layout.TargetsAt(4), block1 + layout.Bytes(4) - SgdFormat.BlockChecksumBytes);
        Assert.Equal(4 * 4 * (3 + 1), to - from); // Y and w of block 1's four rows
        string bad = PathOf("bad.sgd");
        for (long at = from; at < to; at++)
        {
            byte[] flipped = (byte[])whole.Clone();
            flipped[at] ^= 0x04;
            File.WriteAllBytes(bad, flipped);
            using SgdReader reader = SgdReader.Open(bad);
            var e = Assert.Throws<DataFormatException>(() => reader.ReadRows(5, 1, new float[4], new int[1], new float[3], new float[1]));
            Assert.Contains("block 1 of 38 (rows from 4) is corrupted (checksum mismatch)", e.Message);
        }
    }

    // A version 3 file written by the writer of the commit that made the format (from iris-soft-weighted.csv: 40 rows,
    // --target-columns p0,p1,p2 --weight-column w, R = 16) still reads as train reads the CSV.
    [Fact]
    public void AFileOfVersion3StillReads() => AssertSameAsTrainReads(CommittedCsv, Committed);
}

internal static class SgdReaderExtensions
{
    /// <summary>Reads the whole file and closes it: the tests' one-liner.</summary>
    public static Table ToTableAndDispose(this SgdReader reader)
    {
        using (reader)
            return reader.ToTable();
    }
}
