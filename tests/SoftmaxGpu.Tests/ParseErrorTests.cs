using System.CommandLine;
using SoftmaxGpu.Cli;

namespace SoftmaxGpu.Tests;

/// <summary>
/// A command line that does not parse ends as every other failure does: one "error:" line on standard error in
/// the user's words (no .NET type names), a "see: softmaxgpu CMD --help" line, nothing on standard output (no help
/// dump), exit code 1.
/// </summary>
public sealed class ParseErrorTests
{
    private static (int Code, string Out, string[] Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = App.Run(args, output, error);
        return (code, output.ToString(), error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("error: --epochs: 'five' is not a whole number", "softmaxgpu train", "train", "--epochs", "five")]
    [InlineData("error: --lr: 'abc' is not a number", "softmaxgpu train", "train", "--lr", "abc")]
    [InlineData("error: --format: 'xml' is not one of auto, csv or libsvm", "softmaxgpu train", "train", "--format", "xml")]
    [InlineData("error: --epochs: needs a value (a whole number)", "softmaxgpu train", "train", "--epochs")]
    [InlineData("error: --data: needs a value", "softmaxgpu train", "train", "--data")]
    [InlineData("error: --scale: 'foo' is not one of maxabs, none or std", "softmaxgpu train", "train", "--scale", "foo")]
    [InlineData("error: --cv is given 2 times (5, 3); give it once", "softmaxgpu train", "train", "--cv", "5", "--cv", "3")]
    [InlineData("error: --model is given 2 times (a, b); give it once", "softmaxgpu train", "train", "--model", "a", "--model", "b")]
    [InlineData("error: unknown option '--epoch'; did you mean --epochs?", "softmaxgpu train", "train", "--epoch", "5")]
    [InlineData("error: unknown option '--no-such-option'", "softmaxgpu train", "train", "--no-such-option")]
    [InlineData("error: unexpected argument 'extra' (train takes options only, each --name value)", "softmaxgpu train", "train", "extra")]
    [InlineData("error: predict needs --model, --data and --out", "softmaxgpu predict", "predict")]
    [InlineData("error: convert needs --out", "softmaxgpu convert", "convert", "--data", "x.csv")]
    [InlineData("error: --threshold: 'high' is not a number", "softmaxgpu predict", "predict", "--model", "m", "--data", "d", "--out", "o", "--threshold", "high")]
    [InlineData("error: unknown command 'trian'; did you mean train?", "softmaxgpu", "trian")]
    [InlineData("error: no command given; one of: train, predict, evaluate, convert, export, devices, bench, ptx", "softmaxgpu")]
    public void ParseErrorIsOneLineAndASeeLine(string expected, string usage, params string[] args)
    {
        (int code, string output, string[] error) = Run(args);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Equal([expected, $"see: {usage} --help"], error);
    }

    /// <summary>Every option of every command that takes a number or one of a list, given a word it cannot take.</summary>
    [Fact]
    public void EveryTypedOptionSaysWhatItExpectsInWords()
    {
        var checkedOptions = new List<string>();
        foreach (Command command in App.Root(TextWriter.Null, TextWriter.Null).Subcommands)
        {
            foreach (Option option in command.Options)
            {
                string? expected = ParseErrors.Expected(option);
                if (expected is null || option.ValueType == typeof(bool))
                    continue;
                (int code, string output, string[] error) = Run(command.Name, option.Name, "not-a-value");
                string where = $"{command.Name} {option.Name} not-a-value";
                Assert.True(code == 1, $"{where}: exit code {code}");
                Assert.True(output == "", $"{where}: wrote to standard output:\n{output}");
                Assert.Equal([$"error: {option.Name}: 'not-a-value' is not {expected}", $"see: softmaxgpu {command.Name} --help"], error);
                checkedOptions.Add(where);
            }
        }
        Assert.Contains("train --epochs not-a-value", checkedOptions);
        Assert.Contains("bench --steps not-a-value", checkedOptions);
    }

    [Fact]
    public void EveryCommandNamesAnUnknownOptionAndSuggestsTheCloseOne()
    {
        foreach (Command command in App.Root(TextWriter.Null, TextWriter.Null).Subcommands)
        {
            (int code, string output, string[] error) = Run(command.Name, "--hepl");
            Assert.Equal(1, code);
            Assert.Equal("", output);
            Assert.Equal(["error: unknown option '--hepl'; did you mean --help?", $"see: softmaxgpu {command.Name} --help"], error);
        }
    }

    [Fact]
    public void HelpStillWinsOverABadValue()
    {
        (int code, string output, string[] error) = Run("train", "--epochs", "five", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--epochs", output);
        Assert.Empty(error);
    }
}
