using System.Globalization;
using System.Text.RegularExpressions;

namespace SoftmaxGpu.Tests;

/// <summary>Training from a .sgd file read in blocks, resident and streamed, against training from the CSV.</summary>
public sealed class TrainFromFileTests() : CliFolder("softmaxgpu-file-")
{
    private static double Objective(string output) =>
        double.Parse(Regex.Matches(output, @"objective ([0-9.eE+-]+)")[^1].Groups[1].Value, CultureInfo.InvariantCulture);

    [Fact]
    public void LbfgsFromAFileInBlocksReachesTheObjectiveOfTheCsv()
    {
        string sgd = PathOf("iris.sgd");
        var convert = Run("convert", "--data", Check.IrisPath, "--out", sgd, "--block-rows", "16");
        Assert.True(convert.Code == 0, convert.Err);

        var fromCsv = Run("train", "--data", Check.IrisPath, "--model", PathOf("a"), "--optimizer", "lbfgs");
        var fromFile = Run("train", "--data", sgd, "--model", PathOf("b"), "--optimizer", "lbfgs");
        var streamed = Run("train", "--data", sgd, "--val", sgd, "--model", PathOf("c"), "--optimizer", "lbfgs",
            "--device-memory", "2KiB");
        foreach (var run in new[] { fromCsv, fromFile, streamed })
            Assert.True(run.Code == 0, run.Err);
        Assert.Contains("read in blocks of 16", fromFile.Out);
        Assert.Contains("data: streamed through the device in blocks of", streamed.Out);
        Assert.DoesNotContain("streamed through the device", fromFile.Out);
        Check.Close(Objective(fromCsv.Out), Objective(fromFile.Out), 0, 1e-6, "J from the file vs from the CSV");
        Check.Close(Objective(fromCsv.Out), Objective(streamed.Out), 0, 1e-6, "J from the file, streamed, vs from the CSV");

        // predict and evaluate read the file block by block and agree with the CSV.
        string model = PathOf("b");
        var predictFile = Run("predict", "--model", model, "--data", sgd, "--out", PathOf("p1.csv"), "--proba");
        var predictCsv = Run("predict", "--model", model, "--data", Check.IrisPath, "--out", PathOf("p2.csv"), "--proba");
        Assert.True(predictFile.Code == 0 && predictCsv.Code == 0, predictFile.Err + predictCsv.Err);
        Assert.Equal(File.ReadAllLines(PathOf("p2.csv")), File.ReadAllLines(PathOf("p1.csv")));
        var evaluateFile = Run("evaluate", "--model", model, "--data", sgd, "--json");
        var evaluateCsv = Run("evaluate", "--model", model, "--data", Check.IrisPath, "--json");
        Assert.True(evaluateFile.Code == 0 && evaluateCsv.Code == 0, evaluateFile.Err + evaluateCsv.Err);
        Assert.Equal(evaluateCsv.Out, evaluateFile.Out);
        Assert.Contains("\"rows\":150", evaluateFile.Out);

        var split = Run("train", "--data", sgd, "--model", PathOf("d"), "--val-fraction", "0.2");
        Assert.Equal(1, split.Code);
        Assert.Contains("--val-fraction needs the data in memory", split.Err);
    }
}
