using System.Globalization;
using System.Text.RegularExpressions;

namespace SoftmaxGpu.Tests;

/// <summary>
/// train --class-weight, --weight-column and --target-columns end to end: each checked against a second way to
/// state the same objective (rows repeated by their weight, labels as one-hot targets), and every bad input.
/// </summary>
public sealed partial class WeightsCliTests() : CliFolder("softmaxgpu-weights-")
{
    private static readonly string[] IrisLines = File.ReadAllLines(Check.IrisPath);
    private static readonly string[] Classes = ["setosa", "versicolor", "virginica"];

    /// <summary>Iris data rows as (features text, species).</summary>
    private static IEnumerable<(string Features, string Label)> IrisRows() =>
        IrisLines.Skip(1).Where(l => l.Length > 0).Select(l => (l[..l.LastIndexOf(',')], l[(l.LastIndexOf(',') + 1)..]));

    private static string Header => IrisLines[0][..IrisLines[0].LastIndexOf(',')];

    /// <summary>The objective J of the saved θ from train's model line.</summary>
    private static double Objective(string output) =>
        double.Parse(ObjectiveLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"objective (\d+\.\d+)")]
    private static partial Regex ObjectiveLine();

    private (int Code, string Out, string Err) Train(string data, params string[] options) =>
        Run(["train", "--data", data, "--model", PathOf("model"), "--quiet", .. options]);

    [Fact]
    public void AWeightColumnTrainsTheObjectiveOfRowsRepeatedByTheirWeight()
    {
        var random = new Random(5);
        var weighted = new List<string> { Header + ",w,species" };
        var repeated = new List<string> { Header + ",species" };
        foreach ((string features, string label) in IrisRows())
        {
            int w = random.Next(4);
            weighted.Add($"{features},{w},{label}");
            repeated.AddRange(Enumerable.Repeat($"{features},{label}", w));
        }
        var cold = Train(Write("weighted.csv", string.Join('\n', weighted)), "--weight-column", "w");
        Assert.True(cold.Code == 0, cold.Err);
        Assert.Contains("weighted mean cross-entropy Σ w·CE / Σ w", cold.Out);
        Assert.Contains("1/(C·Σw)", cold.Out);
        Assert.Contains(": 150 rows, 4 features", cold.Out); // w is not a feature (the data line counted it)
        var evaluate = Run("evaluate", "--model", PathOf("model"), "--data", Check.IrisPath);
        Assert.True(evaluate.Code == 0, evaluate.Err);

        // Standardization is fitted on the rows as given, so the two sets share it only through --init-model, which
        // keeps the repeated rows' statistics (and starts at their optimum, where J must be the repeated rows' J).
        var byRepeat = Run("train", "--data", Write("repeated.csv", string.Join('\n', repeated)), "--model", PathOf("repeated"), "--quiet");
        Assert.True(byRepeat.Code == 0, byRepeat.Err);
        var byWeight = Train(PathOf("weighted.csv"), "--weight-column", "w", "--init-model", PathOf("repeated"));
        Assert.True(byWeight.Code == 0, byWeight.Err);
        Check.Close(Objective(byRepeat.Out), Objective(byWeight.Out), 0, 1e-6, "J with weights vs J of the repeated rows");
    }

    [Fact]
    public void BalancedClassWeightsAreTheRepeatedRowsObjectiveAtTheMatchingC()
    {
        // 50, 25 and 10 rows: balanced weights N/(K·n_c) = (85/150)·(1, 2, 5), Σw = N = 85. The same rows repeated
        // 1, 2 and 5 times (150 rows) with C = 85/150 give the same λ = 1/(C·Σw) and so the same J.
        int[] counts = [50, 25, 10], repeats = [1, 2, 5];
        var subset = new List<string> { IrisLines[0] };
        var repeated = new List<string> { IrisLines[0] };
        foreach ((string features, string label) in IrisRows())
        {
            int c = Array.IndexOf(Classes, label);
            if (subset.Count(l => l.EndsWith("," + label, StringComparison.Ordinal)) >= counts[c])
                continue;
            subset.Add($"{features},{label}");
            repeated.AddRange(Enumerable.Repeat($"{features},{label}", repeats[c]));
        }
        // As above, the repeated rows' model gives both runs its standardization and its optimum to start from.
        string cValue = (85.0 / 150).ToString("R", CultureInfo.InvariantCulture);
        var byRepeat = Run("train", "--data", Write("repeated.csv", string.Join('\n', repeated)), "--model", PathOf("repeated"),
            "--quiet", "--C", cValue);
        Assert.True(byRepeat.Code == 0, byRepeat.Err);
        var balanced = Train(Write("imbalanced.csv", string.Join('\n', subset)), "--class-weight", "balanced", "--init-model", PathOf("repeated"));
        Assert.True(balanced.Code == 0, balanced.Err);
        Assert.Contains("Σw = 85 ", balanced.Out);
        Check.Close(Objective(byRepeat.Out), Objective(balanced.Out), 0, 1e-6, "balanced J vs J of the repeated rows");

        var plain = Run("train", "--data", PathOf("repeated.csv"), "--model", PathOf("repeated"), "--quiet");
        var named = Train(PathOf("imbalanced.csv"), "--class-weight", "setosa=1,versicolor=2,virginica=5", "--init-model", PathOf("repeated"));
        Assert.True(named.Code == 0, named.Err);
        Assert.Contains("Σw = 150 ", named.Out);
        Check.Close(Objective(plain.Out), Objective(named.Out), 0, 1e-6, "named class weights vs repeated rows");
    }

    [Fact]
    public void OneHotTargetColumnsTrainTheLabelModelAndEvaluateAgainstLabels()
    {
        var lines = new List<string> { "virginica," + Header + ",setosa,versicolor" }; // targets around the features
        foreach ((string features, string label) in IrisRows())
            lines.Add($"{(label == "virginica" ? 1 : 0)},{features},{(label == "setosa" ? 1 : 0)},{(label == "versicolor" ? 1 : 0)}");
        var soft = Train(Write("targets.csv", string.Join('\n', lines)), "--target-columns", "setosa,versicolor,virginica");
        Assert.True(soft.Code == 0, soft.Err);
        Assert.Contains("(3 classes: setosa, versicolor, virginica; 4 features)", soft.Out);
        Assert.Contains(": 150 rows, 4 features", soft.Out); // the data line, as the model line: targets are not features
        Assert.Contains("objective: mean cross-entropy", soft.Out);
        var fromTargets = Run("evaluate", "--model", PathOf("model"), "--data", Check.IrisPath, "--label", "species", "--json");
        Assert.True(fromTargets.Code == 0, fromTargets.Err);
        var noLabel = Run("evaluate", "--model", PathOf("model"), "--data", Check.IrisPath);
        Assert.Equal(1, noLabel.Code);
        Assert.Contains("trained on probability columns (--target-columns), so it has no label column of its own: give --label", noLabel.Err);

        var hard = Train(Check.IrisPath);
        Assert.True(hard.Code == 0, hard.Err);
        Check.Close(Objective(hard.Out), Objective(soft.Out), 0, 1e-6, "J of one-hot targets vs J of the labels");
        var fromLabels = Run("evaluate", "--model", PathOf("model"), "--data", Check.IrisPath, "--json");
        Assert.Equal(Regex.Match(fromLabels.Out, "\"accuracy\": *[0-9.]+").Value, Regex.Match(fromTargets.Out, "\"accuracy\": *[0-9.]+").Value);
    }

    [Fact]
    public void SoftTargetColumnsWithWeightsTrainAndTheLargestTargetIsTheTrueClass()
    {
        var lines = new List<string> { "a,b,x,y,w" };
        var random = new Random(9);
        for (int r = 0; r < 40; r++)
        {
            double x = random.NextDouble() * 4 - 2;
            double p = 1 / (1 + Math.Exp(-3 * x)); // a soft teacher
            lines.Add(FormattableString.Invariant($"{x:F4},{random.NextDouble():F4},{p:F6},{1 - p:F6},{random.Next(1, 3)}"));
        }
        var result = Train(Write("soft.csv", string.Join('\n', lines)), "--target-columns", "x,y", "--weight-column", "w",
            "--class-weight", "y=2", "--val-fraction", "0.25");
        Assert.True(result.Code == 0, result.Err);
        Assert.Contains("(2 classes: x, y; 2 features)", result.Out);
        Assert.Contains("weighted mean cross-entropy", result.Out);
    }

    [Theory]
    [InlineData("a,b,label\n1,2,x\n2,1,y\n3,4,x\n", "--class-weight|z=2", "--class-weight names class 'z', which is not among the classes (x, y)")]
    [InlineData("a,b,label\n1,2,x\n2,1,y\n3,4,x\n", "--class-weight|x", "--class-weight must be 'balanced' or class=weight pairs")]
    [InlineData("a,b,label\n1,2,x\n2,1,y\n3,4,x\n", "--class-weight|x=-1", "the weight of class 'x' must be a finite number >= 0, got -1")]
    [InlineData("a,w,label\n1,2,x\n2,1,y\n3,-4,x\n", "--weight-column|w", "bad.csv: line 4: the weight in column 'w' is -4; weights must be finite and >= 0")]
    [InlineData("a,w,label\n1,0,x\n2,0,y\n3,0,x\n", "--weight-column|w", "bad.csv: every weight in column 'w' is 0")]
    [InlineData("a,w,label\n1,1,x\n2,nan,y\n", "--weight-column|w", "bad.csv: line 3, column 2 ('w'): 'nan' is not a")]
    [InlineData("a,b,label\n1,2,x\n2,1,y\n", "--weight-column|w", "--weight-column 'w' names no numeric column; the columns are: a, b, label")]
    [InlineData("f,p,q\n1,0.5,0.5\n2,0.3,0.6\n", "--target-columns|p,q", "bad.csv: line 3: the targets in columns p,q sum to 0.9")]
    [InlineData("f,p,q\n1,0.5,0.5\n2,1.1,-0.1\n", "--target-columns|p,q", "bad.csv: line 3: the target in column 'q' is -0.1")]
    [InlineData("f,p,q\n1,0.5,0.5\n2,x,0.5\n", "--target-columns|p,q", "bad.csv: line 3, column 2 ('p'): 'x' is not a number")]
    [InlineData("f,p,q\n1,0.5,0.5\n", "--target-columns|p", "--target-columns needs at least two columns")]
    [InlineData("f,p,q\n1,0.5,0.5\n", "--target-columns|p,r", "--target-columns 'r' names no numeric column")]
    [InlineData("f,p,q\n1,0.5,0.5\n", "--target-columns|p,q|--label|f", "give --label or --target-columns, not both")]
    [InlineData("f,p,q\n1,0.5,0.5\n", "--target-columns|p,q|--weight-column|q", "--weight-column 'q' is also one of --target-columns")]
    public void BadWeightsAndTargetsAreErrorsThatSayWhere(string csv, string options, string expected)
    {
        var result = Train(Write("bad.csv", csv), options.Split('|'));
        Assert.Equal(1, result.Code);
        Assert.Contains(expected, result.Err);
        Assert.False(File.Exists(PathOf("model")));
    }

    // A .sgd file keeps the weights it was converted with (train takes them, the option given again or not); one
    // converted without them has none, and --weight-column says how to make one that has.
    [Fact]
    public void AWeightColumnFromASgdFileIsTheOneItWasConvertedWith()
    {
        string csv = Write("good.csv", "a,b,w,label\n1,2,1,x\n2,1,2,y\n3,4,1,x\n4,3,1,y\n");
        Assert.Equal(0, Run("convert", "--data", csv, "--out", PathOf("plain.sgd")).Code);
        var result = Train(PathOf("plain.sgd"), "--weight-column", "w");
        Assert.Equal(1, result.Code);
        Assert.Contains("plain.sgd: the .sgd file has no weights; convert the CSV again with --weight-column w", result.Err);
        Assert.Equal(0, Run("convert", "--data", csv, "--weight-column", "w", "--out", PathOf("weighted.sgd")).Code);
        Assert.Equal(0, Train(PathOf("weighted.sgd"), "--weight-column", "w").Code);
        var other = Train(PathOf("weighted.sgd"), "--weight-column", "a");
        Assert.Contains("the weight column of a .sgd file is fixed when it is converted: it is 'w', not 'a'", other.Err);
    }
}
