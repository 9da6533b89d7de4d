using System.Globalization;
using System.Text.Json;
using SoftmaxGpu.Data;

namespace SoftmaxGpu.Tests;

/// <summary>
/// LIBSVM/svmlight input: the reader on small files written here (good ones, and every malformed token with
/// its line and column), scaling without centring, and train/evaluate/predict/convert through the CLI against
/// the same data as CSV.
/// </summary>
public sealed class LibSvmTests() : CliFolder("softmaxgpu-libsvm-")
{
    private Table Read(string text, LibSvmOptions? options = null, string name = "data.libsvm") =>
        LibSvmTableReader.Read(Write(name, text), options ?? new LibSvmOptions());

    [Fact]
    public void ReadsLabelsAndEntriesIntoDenseRowsSkippingCommentsBlankLinesAndQid()
    {
        Table table = Read("# a comment line\n" +
                           "cat 1:0.5 3:-2   # a comment after the row\n" +
                           "\n" +
                           "dog\tqid:7\t2:1e3\r\n" +
                           "   \n" +
                           "cat\n");
        Assert.Equal(["1", "2", "3"], table.FeatureNames);
        Assert.Equal("label", table.LabelName);
        Assert.Equal(["cat", "dog", "cat"], table.Labels);
        Assert.Equal([0.5f, 0f, -2f, 0f, 1000f, 0f, 0f, 0f, 0f], table.Features);
        Assert.True(table.Sparse);
        Assert.True(table.Subset([2, 0]).Sparse);
    }

    [Fact]
    public void ZeroBasedIndicesAndAGivenFeatureCountNameTheColumnsAsTheFileDoes()
    {
        Table table = Read("1 0:1 2:3\n2 1:2\n", new LibSvmOptions { ZeroBased = true, Features = 5 });
        Assert.Equal(["0", "1", "2", "3", "4"], table.FeatureNames);
        Assert.Equal([1f, 0f, 3f, 0f, 0f, 0f, 2f, 0f, 0f, 0f], table.Features);

        LibSvmOptions forModel = LibSvmOptions.For(table.FeatureNames, "the model");
        Assert.True(forModel.ZeroBased);
        Assert.Equal(5, forModel.Features);
        Assert.False(LibSvmOptions.For(["1", "2"], "the model").ZeroBased);
    }

    [Fact]
    public void ClassesAreOrderedAsForCsv()
    {
        Assert.Equal(["2", "9", "10"], Read("10 1:1\n9 1:2\n2 1:3\n").DistinctClasses());
        Assert.Equal(["-1", "+1"], Read("+1 1:1\n-1 1:2\n").DistinctClasses());
        Assert.Equal(["B", "a", "b"], Read("b 1:1\na 1:2\nB 1:3\n").DistinctClasses());
    }

    /// <summary>A malformed file: its text, options, and where and what the error must say.</summary>
    public static TheoryData<string, string, int?, bool, int, int, string> Malformed => new()
    {
        { "missing label", "1 1:2\n2:3 4:1\n", null, false, 2, 1, "the label is missing: the line starts with '2:3'" },
        { "token without ':'", "1 1:2 3\n", null, false, 1, 7, "'3' is not index:value" },
        { "index not an integer", "1 1.5:2\n", null, false, 1, 3, "index '1.5' is not an integer" },
        { "index 0 when 1-based", "1 0:2\n", null, false, 1, 3, "index 0, but LIBSVM indices start at 1 (give --zero-based" },
        { "negative index", "# c\n1 -2:2\n", null, false, 2, 3, "index -2 is negative; indices start at 1" },
        { "indices not increasing", "1 3:1 2:1\n", null, false, 1, 7, "index 2 comes after index 3; indices must increase" },
        { "duplicated index", "1 2:1 2:5\n", null, false, 1, 7, "index 2 appears twice in the line" },
        { "value not a number", "1 2:abc\n", null, false, 1, 5, "the value 'abc' of index 2 is not a number" },
        { "NaN value", "1 1:1\n\n1 2:NaN\n", null, false, 3, 5, "the value 'NaN' of index 2 is not a finite number" },
        { "infinite value", "1 2:-Infinity\n", null, false, 1, 5, "the value '-Infinity' of index 2 is not a finite number" },
        { "value beyond float", "1 2:1e39\n", null, false, 1, 5, "the value '1e39' of index 2 is not a finite number" },
        { "index beyond --features", "1 1:1\n2 4:1\n", 3, false, 2, 3, "index 4 is beyond the last feature, 3 (3 features, from --features 3)" },
        { "empty index", "1 :5\n", null, false, 1, 3, "':5' has no index before ':'" },
        { "empty value", "1 2:\n", null, false, 1, 5, "'2:' has no value after ':'" },
        { "two colons", "1 2:3:4\n", null, false, 1, 6, "'2:3:4' has more than one ':'" },
        { "trailing garbage", "1 1:2 3:4 junk\n", null, false, 1, 11, "'junk' is not index:value" },
        { "index too large", "1 99999999999:1\n", null, false, 1, 3, "index 99999999999 is too large" },
        { "qid not an integer", "1 qid:x 1:2\n", null, false, 1, 7, "'qid:x': a qid must be an integer" },
        { "zero-based: beyond --features", "1 0:1 3:1\n", 3, true, 1, 7, "index 3 is beyond the last feature, 2" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void EveryMalformedTokenIsAnErrorNamingFileLineAndColumn(string name, string text, int? features, bool zeroBased,
        int line, int column, string problem)
    {
        string path = Write("bad.libsvm", text);
        var options = new LibSvmOptions { Features = features, ZeroBased = zeroBased, FeaturesFrom = $"--features {features}" };
        var error = Assert.Throws<DataFormatException>(() => LibSvmTableReader.Read(path, options));
        Assert.Contains($"{path}: line {line}, column {column}: ", error.Message);
        Assert.True(error.Message.Contains(problem, StringComparison.Ordinal), $"{name}: {error.Message}");
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n\n  \t\n")]
    public void AFileWithoutRowsIsAnError(string text)
    {
        string path = Write("empty.libsvm", text);
        var error = Assert.Throws<DataFormatException>(() => LibSvmTableReader.Read(path, new LibSvmOptions()));
        Assert.Contains($"{path}: no data rows", error.Message);
        var given = Assert.Throws<DataFormatException>(() => LibSvmTableReader.Read(path, new LibSvmOptions { Features = 3 }));
        Assert.Contains("no data rows", given.Message);
    }

    [Fact]
    public void RowsWithoutAnyEntryNeedFeaturesGiven()
    {
        string path = Write("labels.libsvm", "a\nb\n");
        var error = Assert.Throws<DataFormatException>(() => LibSvmTableReader.Read(path, new LibSvmOptions()));
        Assert.Contains("give --features N", error.Message);
        Assert.Equal(new float[4], LibSvmTableReader.Read(path, new LibSvmOptions { Features = 2 }).Features);
    }

    [Fact]
    public void AFileBeyondOneArrayIsAnErrorThatPointsToConvert()
    {
        string path = Write("wide.libsvm", "x 1:1 2:2\ny 1:3\nx 2:6\n");
        Assert.Equal(6, LibSvmTableReader.Read(path, new LibSvmOptions(), maxValues: 6).Features.Length);
        var error = Assert.Throws<DataFormatException>(() => LibSvmTableReader.Read(path, new LibSvmOptions(), maxValues: 5));
        Assert.Contains("more than 5 feature values (row 3 of 2 features)", error.Message);
        Assert.Contains("softmaxgpu convert", error.Message);
    }

    /// <summary>
    /// --sparse off on rows whose dense form no array holds: one error with the sizes, from the text file and from its
    /// sparse .sgd (it was a memory climb toward the out-of-memory killer, and an OverflowException).
    /// </summary>
    [Fact]
    public void SparseOffOnRowsTooWideToMakeDenseIsOneErrorWithTheSizes()
    {
        // 200 rows of 16,000,000 features (a sparse .sgd file keeps statistics for up to 16,777,216): 3.2e9 values made dense.
        string text = Write("wide.libsvm", string.Concat(Enumerable.Range(0, 200).Select(r => $"{r % 2} {r + 1}:0.5 16000000:1\n")));
        string sgd = PathOf("wide.sgd");
        var convert = Run("convert", "--data", text, "--out", sgd);
        Assert.True(convert.Code == 0, convert.Err);
        foreach (string data in (string[])[text, sgd])
        {
            var train = Run("train", "--data", data, "--sparse", "off", "--model", PathOf("m"));
            Assert.Equal(1, train.Code);
            Assert.Contains($"{data}: --sparse off: 200 rows × 16000000 features made dense are 3,200,000,000 values, more than one array holds", train.Err);
            Assert.DoesNotContain("internal error", train.Err);
        }
        Assert.False(File.Exists(PathOf("m")));
    }

    [Fact]
    public void ScalingWithoutCentringKeepsZerosAndDividesByThePopulationStd()
    {
        // X: [4, 3]; column 0 has mean 1.5 and population std sqrt(1.25); column 2 is constant.
        float[] x = [0, 5, 7, 1, 0, 7, 2, 0, 7, 3, 5, 7];
        Standardizer centred = Standardizer.Fit(x, 4, 3);
        Standardizer scaled = Standardizer.Fit(x, 4, 3, centre: false);
        Assert.Equal([0.0, 0.0, 0.0], scaled.Mean);
        Assert.Equal(centred.Std, scaled.Std);
        Check.Close(Math.Sqrt(1.25), scaled.Std[0], 0, 1e-12, "population std");
        Assert.Equal(1.0, scaled.Std[2]);
        float[] applied = scaled.Apply(x);
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(x[i] == 0, applied[i] == 0);
    }

    /// <summary>iris as LIBSVM text, only its nonzero values, in the CSV's row and column order.</summary>
    private string IrisAsLibSvm(string name, bool withLabels = true, int skipColumn = -1)
    {
        Table iris = CsvTableReader.Read(Check.IrisPath);
        var lines = new List<string>();
        for (int r = 0; r < iris.Rows; r++)
        {
            var tokens = new List<string>();
            if (withLabels)
                tokens.Add(iris.Labels[r]);
            for (int j = 0; j < iris.Dim; j++)
            {
                float v = iris.Features[r * iris.Dim + j];
                if (v != 0 && j != skipColumn)
                    tokens.Add($"{j + 1}:{v.ToString("R", CultureInfo.InvariantCulture)}");
            }
            lines.Add(string.Join(' ', tokens));
        }
        return Write(name, string.Join('\n', lines) + "\n");
    }

    private static double Objective(string trainOutput) =>
        double.Parse(trainOutput.Split("objective ")[^1].Split(';')[0], CultureInfo.InvariantCulture);

    private static double Accuracy(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("accuracy").GetDouble();
    }

    [Fact]
    public void TrainingOnLibSvmReachesTheCsvOptimumAndEvaluateAndPredictReadLibSvm()
    {
        string data = IrisAsLibSvm("iris.libsvm");
        string csvModel = PathOf("csv.model"), libsvmModel = PathOf("libsvm.model");
        var csv = Run("train", "--data", Check.IrisPath, "--model", csvModel, "--quiet");
        var libsvm = Run("train", "--data", data, "--model", libsvmModel, "--quiet");
        Assert.True(csv.Code == 0, csv.Err);
        Assert.True(libsvm.Code == 0, libsvm.Err);
        Assert.Contains("150 rows, 4 features (LIBSVM: scaled without centring)", libsvm.Out);
        Check.Close(Objective(csv.Out), Objective(libsvm.Out), 0, 1e-5, "J on LIBSVM vs CSV");
        Standardizer stored = SoftmaxGpu.Model.ModelFile.Load(libsvmModel).Standardizer;
        Assert.Equal(new double[4], stored.Mean); // scaled, not centred
        Assert.Equal(SoftmaxGpu.Model.ModelFile.Load(csvModel).Standardizer.Std, stored.Std);

        // A LIBSVM validation file takes the training set's D, though its largest index is 3.
        string validation = IrisAsLibSvm("val.libsvm", skipColumn: 3);
        var withVal = Run("train", "--data", data, "--val", validation, "--model", PathOf("v.model"), "--quiet");
        Assert.True(withVal.Code == 0, withVal.Err);
        Assert.Contains("validation: 150 rows", withVal.Out);

        var csvEval = Run("evaluate", "--model", csvModel, "--data", Check.IrisPath, "--json");
        var libsvmEval = Run("evaluate", "--model", libsvmModel, "--data", data, "--json");
        Assert.True(libsvmEval.Code == 0, libsvmEval.Err);
        Assert.Equal(Accuracy(csvEval.Out), Accuracy(libsvmEval.Out));

        // Predict-time data may leave out labels and trailing zero features: D comes from the model.
        string unlabelled = IrisAsLibSvm("unlabelled.svm", withLabels: false, skipColumn: 3);
        var predict = Run("predict", "--model", libsvmModel, "--data", unlabelled, "--out", PathOf("p.csv"));
        Assert.True(predict.Code == 0, predict.Err);
        Assert.Equal(151, File.ReadAllLines(PathOf("p.csv")).Length);

        string beyond = Write("beyond.libsvm", "setosa 1:5 2:3\nsetosa 1:5 5:1\n");
        var error = Run("evaluate", "--model", libsvmModel, "--data", beyond);
        Assert.Equal(1, error.Code);
        Assert.Contains($"{beyond}: line 2, column 12: index 5 is beyond the last feature, 4 (4 features, from the model)", error.Err);
    }

    [Fact]
    public void ConvertedLibSvmTrainsWithoutCentringAsTheTextFileDoes()
    {
        string data = IrisAsLibSvm("iris.libsvm");
        string sgd = PathOf("iris.sgd");
        var convert = Run("convert", "--data", data, "--out", sgd, "--sparse", "off");
        Assert.True(convert.Code == 0, convert.Err);
        using (SgdReader reader = SgdReader.Open(sgd))
        {
            Table text = LibSvmTableReader.Read(data, new LibSvmOptions());
            Standardizer fit = Standardizer.Fit(text.Features, text.Rows, text.Dim, centre: false);
            Assert.Equal(text.FeatureNames, reader.FeatureNames);
            Assert.Equal(new double[4], reader.Mean);
            for (int j = 0; j < 4; j++)
                Check.Close(fit.Std[j], reader.Std[j], 0, 1e-9, $"std {j}");
        }
        var fromText = Run("train", "--data", data, "--model", PathOf("a.model"), "--quiet");
        var fromSgd = Run("train", "--data", sgd, "--model", PathOf("b.model"), "--quiet");
        Assert.True(fromSgd.Code == 0, fromSgd.Err);
        Check.Close(Objective(fromText.Out), Objective(fromSgd.Out), 0, 1e-5, "J from .sgd vs LIBSVM text");
    }

    [Theory]
    [InlineData("--zero-based", "--zero-based and --features apply to LIBSVM data")]
    [InlineData("--features=4", "--zero-based and --features apply to LIBSVM data")]
    public void LibSvmOptionsOnACsvAreAnError(string option, string message)
    {
        var train = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), option);
        Assert.Equal(1, train.Code);
        Assert.Contains(message, train.Err);
    }

    [Fact]
    public void FormatOptionReadsAnyNameAsLibSvmAndLabelAndFeaturesAreChecked()
    {
        string data = Write("iris.txt", File.ReadAllText(IrisAsLibSvm("iris.libsvm")));
        var plain = Run("train", "--data", data, "--model", PathOf("m"), "--quiet");
        Assert.Equal(1, plain.Code); // read as CSV: its header is a LIBSVM row
        var named = Run("train", "--data", data, "--model", PathOf("m"), "--quiet", "--format", "libsvm", "--features", "6");
        Assert.True(named.Code == 0, named.Err);
        Assert.Contains("150 rows, 6 features", named.Out);

        var label = Run("train", "--data", data, "--format", "libsvm", "--label", "species");
        Assert.Contains("the label of a LIBSVM file", label.Err);
        var zero = Run("train", "--data", data, "--format", "libsvm", "--features", "0");
        Assert.Contains("--features must be >= 1, got 0", zero.Err);
        var format = Run("train", "--data", data, "--format", "svm");
        Assert.Equal(1, format.Code);
        Assert.Contains("svm", format.Err);
    }
}
