using SoftmaxGpu.Cli;

namespace SoftmaxGpu.Tests;

/// <summary>
/// The usage line names the installed command, <c>softmaxgpu</c>, whatever the entry assembly (SoftmaxGpu.Cli
/// when run, the test host here).
/// </summary>
public sealed class HelpTests
{
    private static (int Code, string Out) Help(params string[] args)
    {
        var output = new StringWriter();
        int code = App.Run(args, output, new StringWriter());
        return (code, output.ToString());
    }

    [Theory]
    [InlineData("softmaxgpu", "--help")]
    [InlineData("softmaxgpu train", "train", "--help")]
    public void UsageStartsWithSoftmaxgpu(string usage, params string[] args)
    {
        (int code, string output) = Help(args);
        Assert.Equal(0, code);
        string[] lines = output.Split('\n').Select(line => line.Trim()).ToArray();
        int at = Array.IndexOf(lines, "Usage:");
        Assert.True(at >= 0 && at + 1 < lines.Length, $"no Usage: section in\n{output}");
        Assert.StartsWith(usage + " ", lines[at + 1]);
    }

    [Fact]
    public void TrainHelpSaysWhereTheDefaultDataComesFrom()
    {
        (int code, string output) = Help("train", "--help");
        Assert.Equal(0, code);
        string words = string.Join(' ', output.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)); // help wraps
        Assert.Contains("default: ./datasets/iris.csv if present, else the iris copy bundled with softmaxgpu", words);
    }

    [Fact]
    public void TheBundledIrisIsCopiedBesideTheApp()
    {
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, BundledData.Iris)));
        Assert.True(File.Exists(BundledData.IrisPath()), BundledData.IrisPath());
    }
}
