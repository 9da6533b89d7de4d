namespace SoftmaxGpu.Tests;

/// <summary>
/// convert, train, evaluate and predict with a .sgd file that keeps target rows or weights (version 3): options that
/// disagree with what the file holds are one error that says what to do; a CSV train rejects, convert rejects with the
/// same message and writes nothing; evaluate and predict read such a file where they read its CSV.
/// </summary>
public sealed class SgdTargetsCliTests() : CliFolder("softmaxgpu-sgd-targets-cli-")
{
    /// <summary>The one error line of a command that must fail, having written no model.</summary>
    private string Fails(params string[] args)
    {
        var (code, _, error) = Run(args[0] == "train" ? [.. args, "--model", PathOf("x.model")] : args);
        Assert.True(code == 1, $"{string.Join(' ', args)}: exit {code}\n{error}");
        Assert.False(File.Exists(PathOf("x.model")));
        return Assert.Single(error.Split('\n'), l => l.StartsWith("error:"));
    }

    private string Converted(string csv, string name, params string[] options)
    {
        var (code, _, error) = Run(["convert", "--data", csv, "--out", PathOf(name), .. options]);
        Assert.True(code == 0, error);
        return PathOf(name);
    }

    [Fact]
    public void OptionsThatDisagreeWithTheFileAreOneErrorSayingWhatToDo()
    {
        (string softCsv, string weightedCsv) = TargetData.Write(Folder);
        string soft = Converted(softCsv, "soft.sgd", "--target-columns", TargetData.Probabilities);
        string weighted = Converted(weightedCsv, "weighted.sgd", "--weight-column", "w");
        string tags = Converted(TargetData.Tagged(Folder), "tags.sgd", "--multi-label", "--label", TargetData.TagColumns, "--ignore", "tags");

        Assert.Contains("soft.sgd: the target columns of a .sgd file are fixed when it is converted: they are p0,p1,p2, not p0,p2,p1 " +
                        "(leave out --target-columns, or convert the CSV again with --target-columns p0,p2,p1)",
            Fails("train", "--data", soft, "--target-columns", "p0,p2,p1"));
        Assert.Contains("soft.sgd: a .sgd file of probability targets p0,p1,p2 has no label column: leave out --label",
            Fails("train", "--data", soft, "--label", "species"));
        Assert.Contains("weighted.sgd: a .sgd file of labels in column 'species', weights from column 'w' has no target columns; " +
                        "convert the CSV again with --target-columns p0,p1,p2",
            Fails("train", "--data", weighted, "--target-columns", TargetData.Probabilities));
        Assert.Contains("soft.sgd: the .sgd file has no weights; convert the CSV again with --weight-column w",
            Fails("train", "--data", soft, "--weight-column", "w"));
        Assert.Contains("tags.sgd: a .sgd file of multi-label (tag columns t0,t1,t2,t3): train it with --multi-label",
            Fails("train", "--data", tags));
        Assert.Contains("tags.sgd: the tag columns of a .sgd file are fixed when it is converted: they are t0,t1,t2,t3, not t0,t1",
            Fails("train", "--data", tags, "--multi-label", "--label", "t0,t1"));
        Assert.Contains("weighted.sgd: a .sgd file of labels in column 'species', weights from column 'w', not tag sets",
            Fails("train", "--data", weighted, "--multi-label"));
        // What multi-label training does not take, convert does not keep: the capability table says so for both.
        Assert.Contains("multi-label training does not take them yet",
            Fails("convert", "--data", softCsv, "--multi-label", "--label", "p0,p1", "--weight-column", "w", "--out", PathOf("x.sgd")));
        Assert.False(File.Exists(PathOf("x.sgd")));
    }

    // Every bad target, weight or tag value train rejects: convert says what train says, and writes nothing.
    [Theory]
    [InlineData("a,p0,p1\n1,0.5,0.5\n2,0.7,0.2\n", "--target-columns|p0,p1", "line 3: the targets in columns p0,p1 sum to 0.8999")]
    [InlineData("a,w,y\n1,1,x\n2,-1,y\n", "--weight-column|w", "the weight in column 'w' is -1")]
    [InlineData("a,w,y\n1,0,x\n2,0,y\n", "--weight-column|w", "every weight in column 'w' is 0")]
    [InlineData("a,t0,t1\n1,1,0\n2,2,1\n", "--multi-label|--label|t0,t1", "tag column 't0': 2 is not 0 or 1")]
    [InlineData("a,b,t\n1,0,1\n2,1,0\n", "--multi-label", "--multi-label without --label reads the last column ('t')")]
    [InlineData("a,p0,p1\n1,0.5,0.5\n", "--target-columns|p0,q", "--target-columns 'q' names no numeric column")]
    public void ConvertRejectsWhatTrainRejectsWithTheSameMessage(string csv, string options, string expected)
    {
        string data = Write("bad.csv", csv);
        string train = Fails(["train", "--data", data, .. options.Split('|')]);
        string convert = Fails(["convert", "--data", data, "--out", PathOf("bad.sgd"), .. options.Split('|')]);
        Assert.Contains(expected, train);
        Assert.Equal(train, convert);
        Assert.False(File.Exists(PathOf("bad.sgd")));
        Assert.Empty(Directory.GetFiles(Folder, "*.tmp"));
    }

    [Fact]
    public void EvaluateAndPredictReadAFileWithTargetsAsTheyReadItsCsv()
    {
        string emotions = Path.Combine(AppContext.BaseDirectory, "data", "emotions.csv");
        const string tags = "amazed-suprised,happy-pleased,relaxing-calm,quiet-still,sad-lonely,angry-aggresive";
        string sgd = Converted(emotions, "emotions.sgd", "--multi-label", "--label", tags);
        string model = PathOf("emotions.model");
        Assert.Equal(0, Run("train", "--data", sgd, "--multi-label", "--model", model, "--epochs", "20", "--device", "host").Code);
        var fromFile = Run("evaluate", "--model", model, "--data", sgd, "--device", "host", "--json");
        Assert.True(fromFile.Code == 0, fromFile.Err);
        Assert.Equal(Run("evaluate", "--model", model, "--data", emotions, "--device", "host", "--json").Out, fromFile.Out);
        var predicted = Run("predict", "--model", model, "--data", sgd, "--out", PathOf("p.csv"), "--device", "host", "--proba");
        Assert.True(predicted.Code == 0, predicted.Err);
        Assert.Equal(0, Run("predict", "--model", model, "--data", emotions, "--out", PathOf("q.csv"), "--device", "host", "--proba").Code);
        Assert.Equal(File.ReadAllText(PathOf("q.csv")), File.ReadAllText(PathOf("p.csv")));

        // predict leaves a file's target rows and weights aside: the rows' classes, as from the CSV.
        (string softCsv, _) = TargetData.Write(Folder);
        string soft = Converted(softCsv, "soft.sgd", "--target-columns", TargetData.Probabilities, "--weight-column", "w");
        string softModel = PathOf("soft.model");
        Assert.Equal(0, Run("train", "--data", soft, "--model", softModel, "--device", "host").Code);
        Assert.Equal(0, Run("predict", "--model", softModel, "--data", soft, "--out", PathOf("s.csv"), "--proba", "--device", "host").Code);
        Assert.Equal(0, Run("predict", "--model", softModel, "--data", softCsv, "--out", PathOf("t.csv"), "--proba", "--device", "host").Code);
        Assert.Equal(File.ReadAllText(PathOf("t.csv")), File.ReadAllText(PathOf("s.csv")));
        // evaluate counts the largest target as the true class, as training's accuracy does.
        var evaluated = Run("evaluate", "--model", softModel, "--data", soft, "--device", "host");
        Assert.True(evaluated.Code == 0, evaluated.Err);
        Assert.Contains("rows      150", evaluated.Out);
    }
}
