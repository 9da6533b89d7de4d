using SoftmaxGpu.Data;

namespace SoftmaxGpu.Tests;

/// <summary>
/// Real CSVs as they come: another separator (and the hints when the file needs one, or is LIBSVM), text columns
/// left out with --ignore, a model's features matched by name in any order, and an id column carried into the
/// predictions.
/// </summary>
public sealed class CsvInputTests() : CliFolder("softmaxgpu-csv-")
{
    private const string Comma = "a,b,label\n1,2,x\n2,1,y\n3,4,x\n4,3,y\n1.5,2.5,x\n";

    private string Separated(string name, char separator) => Write(name, Comma.Replace(',', separator));

    [Theory]
    [InlineData(';', ";")]
    [InlineData('\t', "tab")]
    [InlineData('|', "|")]
    public void ASeparatorReadsTheSameTableAsCommas(char separator, string option)
    {
        Table comma = CsvTableReader.Read(Write("comma.csv", Comma));
        Table other = CsvTableReader.Read(Separated("other.csv", separator),
            columns: new CsvOptions { Separator = CsvOptions.ParseSeparator(option) });
        Assert.Equal(comma.FeatureNames, other.FeatureNames);
        Assert.Equal(comma.Features, other.Features);
        Assert.Equal(comma.Labels, other.Labels);
    }

    [Fact]
    public void EveryCsvCommandTakesTheSeparator()
    {
        string data = Separated("semi.csv", ';'), model = PathOf("m.model");
        var train = Run("train", "--data", data, "--model", model, "--epochs", "3", "--separator", ";");
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("5 rows, 2 features", train.Out);
        var predict = Run("predict", "--model", model, "--data", data, "--out", PathOf("p.csv"), "--separator", ";");
        Assert.True(predict.Code == 0, predict.Err);
        Assert.Equal(6, File.ReadAllLines(PathOf("p.csv")).Length);
        var evaluate = Run("evaluate", "--model", model, "--data", data, "--json", "--separator", ";");
        Assert.True(evaluate.Code == 0, evaluate.Err);
        Assert.Contains("\"rows\":5", evaluate.Out);
        var convert = Run("convert", "--data", data, "--out", PathOf("d.sgd"), "--separator", ";");
        Assert.True(convert.Code == 0, convert.Err);
        Assert.Contains("5 rows, 2 features, 2 classes", convert.Out);
    }

    [Fact]
    public void AOneColumnHeaderWithSemicolonsOrTabsHintsTheSeparator()
    {
        string semi = Separated("semi.csv", ';');
        foreach (string command in new[] { "train", "convert" })
        {
            var result = Run(command, "--data", semi, command == "train" ? "--model" : "--out", PathOf("out.sgd"));
            Assert.Equal(1, result.Code);
            Assert.Contains($"{semi}: line 1: the header is one column when split at ',' ('a;b;label'); it holds ';': " +
                            "give --separator ';' (numbers must still use a decimal point", result.Err);
        }
        var tab = Run("train", "--data", Separated("tab.csv", '\t'), "--model", PathOf("m"));
        Assert.Contains("it holds tabs: give --separator tab", tab.Err);
        AssertNoModel();
    }

    [Fact]
    public void DecimalCommasAreNotSupportedAndSaySo()
    {
        string data = Write("decimal.csv", "a;b;label\n1,5;2;x\n2;1;y\n");
        var train = Run("train", "--data", data, "--model", PathOf("m"), "--separator", ";");
        Assert.Equal(1, train.Code);
        Assert.Contains("line 2, column 1 ('a'): '1,5' is not a number", train.Err);
        Assert.Contains("decimal commas are not supported: write 1.5, not 1,5", train.Err);
    }

    [Fact]
    public void ALibSvmFileWithAnotherNameHintsTheFormat()
    {
        string data = Write("data.txt", "1 1:0.5 2:0.3\n2 1:0.1 2:0.9\n1 1:0.6 2:0.2\n2 2:1.1\n");
        var train = Run("train", "--data", data, "--model", PathOf("m"), "--epochs", "2");
        Assert.Equal(1, train.Code);
        Assert.Contains("it looks like LIBSVM ('label index:value ...'): give --format libsvm", train.Err);
        var libsvm = Run("train", "--data", data, "--model", PathOf("m"), "--epochs", "2", "--format", "libsvm");
        Assert.True(libsvm.Code == 0, libsvm.Err);
        var separator = Run("train", "--data", data, "--model", PathOf("m2"), "--format", "libsvm", "--separator", ";");
        Assert.Equal(1, separator.Code);
        Assert.Contains("--separator applies to CSV files", separator.Err);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("x")]
    [InlineData(".")]
    public void ABadSeparatorIsRejectedByName(string value)
    {
        var train = Run("train", "--data", Write("good.csv", Comma), "--model", PathOf("m"), "--separator", value);
        Assert.Equal(1, train.Code);
        Assert.Contains($"--separator must be one character such as ',' ';' '|' or 'tab', got '{value}'", train.Err);
        AssertNoModel();
    }

    /// <summary>An id and a name (text) around two features; the label is last.</summary>
    private const string WithText = "id,a,name,b,label\nr1,1,ann,2,x\nr2,2,bob,1,y\nr3,3,cy,4,x\nr4,4,di,3,y\nr5,1.5,ed,2.5,x\n";

    [Fact]
    public void IgnoredColumnsAreNeitherReadNorInTheModel()
    {
        string data = Write("text.csv", WithText), model = PathOf("m");
        var refused = Run("train", "--data", data, "--model", model);
        Assert.Equal(1, refused.Code);
        Assert.Contains("line 2, column 1 ('id'): 'r1' is not a number; every column but the label must be numeric " +
                        "(train --ignore NAME leaves a text column out)", refused.Err);

        var train = Run("train", "--data", data, "--model", model, "--ignore", "id, name", "--epochs", "3");
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("5 rows, 2 features", train.Out);
        SoftmaxGpu.Model.SoftmaxModel saved = SoftmaxGpu.Model.ModelFile.Load(model);
        Assert.Equal(["a", "b"], saved.FeatureNames);
        Assert.Equal("label", saved.LabelName);

        // The same model as from the file without those columns.
        string plain = Write("plain.csv", "a,b,label\n1,2,x\n2,1,y\n3,4,x\n4,3,y\n1.5,2.5,x\n");
        var same = Run("train", "--data", plain, "--model", PathOf("plain.model"), "--epochs", "3");
        Assert.True(same.Code == 0, same.Err);
        Assert.Equal(SoftmaxGpu.Model.ModelFile.Load(PathOf("plain.model")).Weights, saved.Weights);
    }

    [Fact]
    public void IgnoreIsCheckedByName()
    {
        string data = Write("text.csv", WithText);
        var typo = Run("train", "--data", data, "--model", PathOf("m"), "--ignore", "id,nmae");
        Assert.Equal(1, typo.Code);
        Assert.Contains("--ignore names no column 'nmae'; the columns are: id, a, name, b, label", typo.Err);
        var label = Run("train", "--data", data, "--model", PathOf("m"), "--ignore", "id,name,label", "--label", "label");
        Assert.Contains("--ignore names the label column 'label'", label.Err);
        var twice = Run("train", "--data", data, "--model", PathOf("m"), "--ignore", "id,id");
        Assert.Contains("--ignore 'id,id': name each column once", twice.Err);
        AssertNoModel();

        // Without --label the label is the last column not ignored.
        string idLast = Write("idlast.csv", "a,b,label,id\n1,2,x,r1\n2,1,y,r2\n3,4,x,r3\n");
        var last = Run("train", "--data", idLast, "--model", PathOf("m"), "--ignore", "id", "--epochs", "2");
        Assert.True(last.Code == 0, last.Err);
        Assert.Contains("(2 classes: x, y; 2 features)", last.Out);
    }

    /// <summary>predict's output for <paramref name="data"/> (with probabilities), after checking it succeeded.</summary>
    private (string[] Lines, string Err) Predict(string model, string data, params string[] more)
    {
        string output = PathOf($"p{Guid.NewGuid():N}.csv");
        var predict = Run(["predict", "--model", model, "--data", data, "--out", output, "--proba", .. more]);
        Assert.True(predict.Code == 0, predict.Err);
        return (File.ReadAllLines(output), predict.Err);
    }

    [Fact]
    public void PredictAndEvaluateFindTheFeaturesByNameAndLeaveTheRestOut()
    {
        string plain = Write("plain.csv", Comma), model = PathOf("m");
        var train = Run("train", "--data", plain, "--model", model, "--epochs", "3");
        Assert.True(train.Code == 0, train.Err);
        (string[] expected, string quiet) = Predict(model, plain);
        Assert.DoesNotContain("note:", quiet);

        // Text columns around the features, and the features in another order: the same predictions, and one note.
        string shuffled = Write("shuffled.csv", "label,id,b,name,a\nx,r1,2,ann,1\ny,r2,1,bob,2\nx,r3,4,cy,3\ny,r4,3,di,4\nx,r5,2.5,ed,1.5\n");
        (string[] got, string err) = Predict(model, shuffled);
        Assert.Equal(expected, got);
        Assert.Equal($"note: {shuffled}: 2 column(s) that are not model features left out: id, name",
            err.Split('\n').Single(l => l.StartsWith("note:", StringComparison.Ordinal)));

        var evaluate = Run("evaluate", "--model", model, "--data", shuffled, "--json");
        Assert.True(evaluate.Code == 0, evaluate.Err);
        Assert.Equal(Run("evaluate", "--model", model, "--data", plain, "--json").Out, evaluate.Out);
        Assert.Contains("note: ", evaluate.Err);
    }

    [Fact]
    public void AValidationFileFindsTheTrainingColumnsByName()
    {
        string plain = Write("plain.csv", Comma);
        // The same rows, the columns in another order and a text column besides: read by name, as predict and evaluate read.
        string shuffled = Write("shuffled.csv", "label,id,b,a\nx,r1,2,1\ny,r2,1,2\nx,r3,4,3\ny,r4,3,4\nx,r5,2.5,1.5\n");
        var train = Run("train", "--data", plain, "--val", shuffled, "--model", PathOf("m"), "--C", "1");
        Assert.True(train.Code == 0, train.Err);
        var sameRows = Run("train", "--data", plain, "--val", plain, "--model", PathOf("m2"), "--C", "1");
        Assert.True(sameRows.Code == 0, sameRows.Err);
        string Validation(string output) => output.Split('\n').Single(l => l.StartsWith("model:", StringComparison.Ordinal)).Split("validation loss")[1];
        Assert.Equal(Validation(sameRows.Out), Validation(train.Out));
    }

    [Fact]
    public void PredictAndEvaluateRefuseAFileThatNamesAFeatureTwice()
    {
        string plain = Write("plain.csv", Comma), model = PathOf("m");
        var train = Run("train", "--data", plain, "--model", model, "--epochs", "3");
        Assert.True(train.Code == 0, train.Err);
        // An extra column named as a feature, before it: read by name, the first 'a' would be taken for the model's a.
        string twice = Write("twice.csv", "a,a,b,label\n100,1,2,x\n100,2,1,y\n");
        foreach (string command in (string[])["predict", "evaluate"])
        {
            var run = Run(command == "predict" ? ["predict", "--model", model, "--data", twice, "--out", PathOf("p.csv")]
                : ["evaluate", "--model", model, "--data", twice]);
            Assert.Equal(1, run.Code);
            Assert.Contains($"{twice}: line 1: columns 1 and 2 are both named 'a'", run.Err);
        }
        Assert.False(File.Exists(PathOf("p.csv")));
    }

    [Fact]
    public void ARowWhoseOutputsPassFloatsRangeIsAnErrorNotANaNPrediction()
    {
        // Column a spread over 0.1 (its standard deviation about 0.06).
        string narrow = Write("narrow.csv", "a,b,label\n0.1,2,x\n0.2,1,y\n0.15,4,x\n0.25,3,y\n"), model = PathOf("m");
        var train = Run("train", "--data", narrow, "--model", model, "--epochs", "3");
        Assert.True(train.Code == 0, train.Err);
        // 3e38 is a float (1e39 is not, and is refused as it is read), but standardized by that spread it is not.
        string far = Write("far.csv", "a,b,label\n0.1,2,x\n3e38,1,y\n");
        foreach (string[] command in (string[][])[["predict", "--model", model, "--data", far, "--out", PathOf("p.csv"), "--proba"],
                                                  ["evaluate", "--model", model, "--data", far]])
        {
            var run = Run(command);
            Assert.Equal(1, run.Code);
            Assert.Contains("row 2: the model's outputs are not finite numbers: a feature there lies so far beyond the range", run.Err);
        }
        Assert.False(File.Exists(PathOf("p.csv")));
    }

    [Fact]
    public void AHeaderOfNumbersIsWarnedOfAsAFirstLineOfData()
    {
        // A file without its header: the first row's values become the column names (and the row is lost).
        string headless = Write("headless.csv", "5.1,3.5,x\n4.9,3.0,x\n6.2,2.9,y\n5.9,3.0,y\n");
        var train = Run("train", "--data", headless, "--model", PathOf("m"), "--epochs", "2");
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains($"warning: {headless}: the column names read as numbers (5.1, 3.5, x); the first line of a CSV file is its header", train.Err);
        // Columns named by integers (pixel indices) are a header: no warning.
        string numbered = Write("numbered.csv", "0,1,label\n5.1,3.5,x\n4.9,3.0,x\n6.2,2.9,y\n");
        var plain = Run("train", "--data", numbered, "--model", PathOf("m2"), "--epochs", "2");
        Assert.True(plain.Code == 0, plain.Err);
        Assert.DoesNotContain("read as numbers", plain.Err);
    }

    [Fact]
    public void TheWeightColumnATrainedModelNeverReadIsLeftOut()
    {
        string data = Write("weighted.csv", "a,b,w,label\n1,2,1,x\n2,1,2,y\n3,4,1,x\n4,3,0.5,y\n1.5,2.5,1,x\n");
        string model = PathOf("m");
        var train = Run("train", "--data", data, "--model", model, "--weight-column", "w", "--epochs", "3");
        Assert.True(train.Code == 0, train.Err);
        (string[] lines, string err) = Predict(model, data);
        Assert.Equal(6, lines.Length);
        Assert.Contains("left out: w", err);
        var evaluate = Run("evaluate", "--model", model, "--data", data);
        Assert.True(evaluate.Code == 0, evaluate.Err);
    }

    [Fact]
    public void MultiLabelModelsFindTheirFeaturesAndTagColumnsByName()
    {
        string data = Write("tags.csv", "a,b,t1,t2\n1,0,1,0\n0,1,0,1\n1,1,1,1\n0,0,0,0\n2,0,1,0\n0,2,0,1\n");
        string model = PathOf("m");
        var train = Run("train", "--data", data, "--multi-label", "--label", "t1,t2", "--model", model, "--epochs", "5");
        Assert.True(train.Code == 0, train.Err);
        (string[] expected, _) = Predict(model, data);

        string shuffled = Write("shuffled.csv", "id,t2,b,a,t1\nr1,0,0,1,1\nr2,1,1,0,0\nr3,1,1,1,1\nr4,0,0,0,0\nr5,0,0,2,1\nr6,1,2,0,0\n");
        (string[] got, string err) = Predict(model, shuffled);
        Assert.Equal(expected, got);
        Assert.Contains("left out: id", err);
        var evaluate = Run("evaluate", "--model", model, "--data", shuffled, "--json");
        Assert.True(evaluate.Code == 0, evaluate.Err);
        Assert.Equal(Run("evaluate", "--model", model, "--data", data, "--json").Out, evaluate.Out);
        var named = Run("evaluate", "--model", model, "--data", shuffled, "--json", "--label", "t1,t2");
        Assert.True(named.Code == 0, named.Err);
        Assert.Equal(evaluate.Out, named.Out);

        // A tags-column model evaluated on a file whose tags column has another name (--label) and an extra column.
        string tagsModel = PathOf("tags.model");
        string tagsData = Write("tagcol.csv", "a,b,tags\n1,0,t1\n0,1,t2\n1,1,t1|t2\n0,0,\n2,0,t1\n0,2,t2\n");
        Assert.Equal(0, Run("train", "--data", tagsData, "--multi-label", "--model", tagsModel, "--epochs", "5").Code);
        string renamed = Write("renamed.csv", "set,id,b,a\nt1,r1,0,1\nt2,r2,1,0\nt1|t2,r3,1,1\n,r4,0,0\nt1,r5,0,2\nt2,r6,2,0\n");
        var other = Run("evaluate", "--model", tagsModel, "--data", renamed, "--json", "--label", "set");
        Assert.True(other.Code == 0, other.Err);
        Assert.Equal(Run("evaluate", "--model", tagsModel, "--data", tagsData, "--json").Out, other.Out);
        Assert.Contains("left out: id", other.Err);
    }

    [Fact]
    public void IdColumnLeadsThePredictions()
    {
        string data = Write("text.csv", WithText.Replace("r3,", "\"r,3\","));
        string model = PathOf("m");
        var train = Run("train", "--data", data, "--model", model, "--ignore", "id,name", "--epochs", "3");
        Assert.True(train.Code == 0, train.Err);
        (string[] plain, _) = Predict(model, data);
        (string[] withId, _) = Predict(model, data, "--id-column", "id");
        Assert.Equal("id,predicted,p_x,p_y", withId[0]);
        string[] ids = ["r1", "r2", "\"r,3\"", "r4", "r5"];
        Assert.Equal(plain.Skip(1).Select((line, r) => $"{ids[r]},{line}"), withId.Skip(1));

        // A multi-label model's tag sets get it too.
        string tags = Write("tags.csv", "id,a,b,tags\nq1,1,0,x\nq2,0,1,y\nq3,1,1,x|y\nq4,0,0,\n");
        var tagTrain = Run("train", "--data", tags, "--multi-label", "--ignore", "id", "--model", PathOf("t"), "--epochs", "3");
        Assert.True(tagTrain.Code == 0, tagTrain.Err);
        (string[] tagLines, _) = Predict(PathOf("t"), tags, "--id-column", "id");
        Assert.Equal("id,predicted,p_x,p_y", tagLines[0]);
        Assert.Equal(["q1", "q2", "q3", "q4"], tagLines.Skip(1).Select(l => l.Split(',')[0]));
    }

    [Fact]
    public void IdColumnMustBeACsvColumn()
    {
        string data = Write("plain.csv", Comma), model = PathOf("m");
        Assert.Equal(0, Run("train", "--data", data, "--model", model, "--epochs", "2").Code);
        var missing = Run("predict", "--model", model, "--data", data, "--out", PathOf("p.csv"), "--id-column", "key");
        Assert.Equal(1, missing.Code);
        Assert.Contains("--id-column 'key' names no column; the columns are: a, b, label", missing.Err);
        Assert.DoesNotContain("device:", missing.Err); // checked before any work
        string libsvm = Write("d.libsvm", "1 1:0.5 2:0.3\n2 1:0.1 2:0.9\n");
        string libsvmModel = PathOf("l");
        Assert.Equal(0, Run("train", "--data", libsvm, "--model", libsvmModel, "--epochs", "2").Code);
        var notCsv = Run("predict", "--model", libsvmModel, "--data", libsvm, "--out", PathOf("p.csv"), "--id-column", "id");
        Assert.Contains($"--id-column copies a column of a CSV file; {libsvm} is not read as CSV", notCsv.Err);
        Assert.False(File.Exists(PathOf("p.csv")));
    }

    private void AssertNoModel() => Assert.False(File.Exists(PathOf("m")));
}
