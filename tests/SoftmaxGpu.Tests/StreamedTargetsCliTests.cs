using System.Globalization;
using System.Text.RegularExpressions;

namespace SoftmaxGpu.Tests;

/// <summary>
/// train end to end with target rows under a small --device-memory and from .sgd files: label smoothing, class
/// and sample weights and multi-label reach the resident L-BFGS objective (these ended in "soft targets are not
/// streamed yet" and a stack trace at 28894f3).
/// </summary>
public sealed partial class StreamedTargetsCliTests() : CliFolder("softmaxgpu-streamed-targets-")
{
    private static readonly string Emotions = Path.Combine(AppContext.BaseDirectory, "data", "emotions.csv");
    private const string Tags = "amazed-suprised,happy-pleased,relaxing-calm,quiet-still,sad-lonely,angry-aggresive";

    [GeneratedRegex(@"objective (\d+\.\d+)")]
    private static partial Regex ObjectiveLine();

    /// <summary>J of the trained θ, from train's model line, and whether the data streamed.</summary>
    private (double Objective, bool Streamed) Train(string data, params string[] options)
    {
        var (code, output, error) = Run(["train", "--data", data, "--model", PathOf("model"), "--quiet", "--optimizer", "lbfgs", .. options]);
        Assert.True(code == 0, $"train {string.Join(' ', options)}: exit {code}\n{error}");
        return (double.Parse(ObjectiveLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            output.Contains("data: streamed through the device"));
    }

    private void SameOptimum(string data, string[] options, string? sgd = null)
    {
        (double resident, bool residentStreamed) = Train(data, options);
        (double streamed, bool inBlocks) = Train(data, [.. options, "--device-memory", "2KiB"]);
        Assert.False(residentStreamed);
        Assert.True(inBlocks);
        Check.Close(resident, streamed, 0, 1e-6, $"J of {string.Join(' ', options)} under --device-memory 2KiB");
        if (sgd is null)
            return;
        (double fromFile, bool fileStreamed) = Train(sgd, [.. options, "--device-memory", "2KiB"]);
        Assert.True(fileStreamed);
        Check.Close(resident, fromFile, 0, 1e-6, $"J of {string.Join(' ', options)} from {Path.GetFileName(sgd)}");
    }

    [Fact]
    public void SmoothingAndClassWeightsStreamFromMemoryAndFromASgdFile()
    {
        Assert.Equal(0, Run("convert", "--data", Check.IrisPath, "--out", PathOf("iris.sgd")).Code);
        SameOptimum(Check.IrisPath, ["--label-smoothing", "0.1"], PathOf("iris.sgd"));
        SameOptimum(Check.IrisPath, ["--class-weight", "balanced"], PathOf("iris.sgd"));
        SameOptimum(Check.IrisPath, ["--label-smoothing", "0.05", "--class-weight", "setosa=2,virginica=0.5"], PathOf("iris.sgd"));
    }

    [Fact]
    public void SampleWeightsAndProbabilityTargetsStreamFromMemory()
    {
        string[] lines = File.ReadAllLines(Check.IrisPath).Where(l => l.Length > 0).ToArray();
        string[] classes = ["setosa", "versicolor", "virginica"];
        var random = new Random(4);
        string header = lines[0][..lines[0].LastIndexOf(',')];
        var weighted = new List<string> { header + ",w,species" };
        var soft = new List<string> { header + ",p0,p1,p2" };
        foreach (string line in lines.Skip(1))
        {
            string features = line[..line.LastIndexOf(',')];
            int label = Array.IndexOf(classes, line[(line.LastIndexOf(',') + 1)..]);
            weighted.Add($"{features},{random.Next(4)},{classes[label]}");
            double[] p = [.. Enumerable.Range(0, 3).Select(c => (c == label ? 3.0 : 0) + random.NextDouble())];
            soft.Add($"{features},{string.Join(',', p.Select(v => (v / p.Sum()).ToString("R", CultureInfo.InvariantCulture)))}");
        }
        File.WriteAllLines(PathOf("weighted.csv"), weighted);
        File.WriteAllLines(PathOf("soft.csv"), soft);
        SameOptimum(PathOf("weighted.csv"), ["--weight-column", "w", "--class-weight", "balanced"]);
        SameOptimum(PathOf("soft.csv"), ["--target-columns", "p0,p1,p2", "--label-smoothing", "0.1"]);
    }

    [Fact]
    public void MultiLabelStreamsFromMemory()
    {
        (double resident, _) = Train(Emotions, "--multi-label", "--label", Tags);
        (double streamed, bool inBlocks) = Train(Emotions, "--multi-label", "--label", Tags, "--device-memory", "64KiB");
        Assert.True(inBlocks);
        Check.Close(resident, streamed, 0, 1e-6, "J of multi-label emotions under --device-memory 64KiB");
    }
}
