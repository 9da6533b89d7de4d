using System.Globalization;
using System.Text.RegularExpressions;

namespace SoftmaxGpu.Tests;

/// <summary>
/// train end to end with target rows under a small --device-memory and from .sgd files: label smoothing, class
/// and sample weights, probability targets and multi-label reach the resident L-BFGS objective (these ended in "soft
/// targets are not streamed yet" and a stack trace at 28894f3; weights, probability targets and tags could not come
/// from a .sgd file before its version 3).
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
        (string soft, string weighted) = TargetData.Write(Folder);
        SameOptimum(weighted, ["--weight-column", "w", "--class-weight", "balanced"]);
        SameOptimum(soft, ["--target-columns", TargetData.Probabilities, "--label-smoothing", "0.1"]);
    }

    /// <summary>
    /// J of training on <paramref name="sgd"/> (converted from <paramref name="csv"/> with its targets or weights) equals J
    /// of training on the CSV in memory within 1e-6 relative: resident, under <paramref name="memory"/> on the host engine,
    /// and (where <paramref name="cpu"/>) under it on the CPU accelerator.
    /// </summary>
    private void SgdFileReachesTheCsvOptimum(string csv, string sgd, string[] csvOptions, string[] sgdOptions, string memory, bool cpu)
    {
        (double resident, _) = Train(csv, csvOptions);
        string[][] runs = cpu ? [[], ["--device-memory", memory], ["--device-memory", memory, "--device", "cpu"]] : [[], ["--device-memory", memory]];
        foreach (string[] run in runs)
        {
            (double fromFile, bool streamed) = Train(sgd, [.. sgdOptions, .. run]);
            Assert.Equal(run.Length > 0, streamed);
            Check.Close(resident, fromFile, 0, 1e-6, $"J of {string.Join(' ', sgdOptions)} from {Path.GetFileName(sgd)} {string.Join(' ', run)}");
        }
    }

    private void Convert(string csv, string sgd, params string[] options)
    {
        var (code, _, error) = Run(["convert", "--data", csv, "--out", sgd, "--block-rows", "16", .. options]);
        Assert.True(code == 0, $"convert {string.Join(' ', options)}: {error}");
    }

    [Fact]
    public void ProbabilityTargetsAndWeightsTrainFromASgdFile()
    {
        (string soft, string weighted) = TargetData.Write(Folder);
        Convert(soft, PathOf("soft.sgd"), "--target-columns", TargetData.Probabilities, "--weight-column", "w");
        Convert(weighted, PathOf("weighted.sgd"), "--weight-column", "w");
        // The file's targets and weights train whether the options are left out or given again as converted.
        SgdFileReachesTheCsvOptimum(soft, PathOf("soft.sgd"), ["--target-columns", TargetData.Probabilities, "--weight-column", "w",
            "--label-smoothing", "0.1"], ["--label-smoothing", "0.1"], "2KiB", cpu: true);
        SgdFileReachesTheCsvOptimum(soft, PathOf("soft.sgd"), ["--target-columns", TargetData.Probabilities, "--weight-column", "w"],
            ["--target-columns", TargetData.Probabilities, "--weight-column", "w"], "2KiB", cpu: false);
        SgdFileReachesTheCsvOptimum(weighted, PathOf("weighted.sgd"), ["--weight-column", "w", "--class-weight", "balanced"],
            ["--class-weight", "balanced"], "2KiB", cpu: true);
    }

    [Fact]
    public void MultiLabelTrainsFromASgdFile()
    {
        Convert(Emotions, PathOf("emotions.sgd"), "--multi-label", "--label", Tags);
        SgdFileReachesTheCsvOptimum(Emotions, PathOf("emotions.sgd"), ["--multi-label", "--label", Tags], ["--multi-label"], "64KiB", cpu: false);
        string tagged = TargetData.Tagged(Folder);
        Convert(tagged, PathOf("tags.sgd"), "--multi-label", "--label", "tags", "--ignore", TargetData.TagColumns);
        SgdFileReachesTheCsvOptimum(tagged, PathOf("tags.sgd"), ["--multi-label", "--label", "tags", "--ignore", TargetData.TagColumns],
            ["--multi-label", "--label", "tags"], "2KiB", cpu: true);
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
