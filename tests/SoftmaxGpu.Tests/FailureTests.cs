using System.Text;
using SoftmaxGpu.Cli;

namespace SoftmaxGpu.Tests;

/// <summary>
/// No command ends in a stack trace: each one, driven through failures raised inside the library (bad data, an
/// unknown device, a path it cannot write, a corrupt model file, a limitation) and through an exception of a type
/// nobody expects, ends with exactly one "error:" line on standard error, no "   at " frame, and exit code 1.
/// </summary>
public sealed class FailureTests : CliFolder
{
    private const string Good = "a,b,label\n1,2,x\n2,1,y\n3,4,x\n4,3,y\n";

    public FailureTests() : base("softmaxgpu-failure-")
    {
        Write("good.csv", Good);
        Write("bad.csv", "a,b,label\n1,2,x\n2,oops,y\n");
        Write("corrupt.model", "not a model at all");
        var trained = Run("train", "--data", PathOf("good.csv"), "--model", PathOf("good.model"), "--device", "host", "--quiet");
        Assert.True(trained.Code == 0, trained.Err);
    }

    /// <summary>A command line; "@name" stands for that file in the test's folder ("@nodir/x": a folder that is absent).</summary>
    [Theory]
    [InlineData("train --data @bad.csv --model @m.model --device host")]
    [InlineData("train --data @good.csv --model @m.model --device nosuch")]
    [InlineData("train --data @good.csv --model @nodir/m.model --device host")]
    [InlineData("train --data @good.csv --model @good.csv/m.model --device host")]
    [InlineData("train --data @good.csv --model @m.model --init-model @corrupt.model --device host")]
    [InlineData("train --data @missing.csv --model @m.model --device host")]
    [InlineData("train --data @iris --multi-label --label-smoothing 0.1 --model @m.model --device host")] // the capability table (plan)
    [InlineData("predict --model @corrupt.model --data @good.csv --out @p.csv --device host")]
    [InlineData("predict --model @good.model --data @bad.csv --out @p.csv --device host")]
    [InlineData("predict --model @good.model --data @good.csv --out @nodir/p.csv --device host")]
    [InlineData("predict --model @good.model --data @good.csv --out @p.csv --device nosuch")]
    [InlineData("evaluate --model @corrupt.model --data @good.csv --device host")]
    [InlineData("evaluate --model @good.model --data @bad.csv --device host")]
    [InlineData("evaluate --model @good.model --data @good.csv --device nosuch")]
    [InlineData("evaluate --model @good.model --data @good.csv --plot @nodir/cm.png --device host")]
    [InlineData("convert --data @bad.csv --out @x.sgd")]
    [InlineData("convert --data @good.csv --out @nodir/x.sgd")]
    [InlineData("convert --data @missing.csv --out @x.sgd")]
    [InlineData("export --model @corrupt.model --onnx @x.onnx")]
    [InlineData("export --model @good.model --onnx @nodir/x.onnx")]
    [InlineData("bench --device nosuch 20x3x2")]
    [InlineData("bench --device host --steps 1 --epochs 0 --copy-mib 1 20x0x2")]
    [InlineData("ptx --out @good.csv")]
    public void ALibraryFailureIsOneErrorLine(string commandLine)
    {
        (int code, _, string err) = Run(Arguments(commandLine));
        AssertOneErrorLine(commandLine, code, err);
    }

    /// <summary>An exception type no command expects, thrown from inside the command by its standard output.</summary>
    [Theory]
    [InlineData("train --data @good.csv --model @m.model --device host")]
    [InlineData("predict --model @good.model --data @good.csv --out @p.csv --device host")]
    [InlineData("evaluate --model @good.model --data @good.csv --device host")]
    [InlineData("convert --data @good.csv --out @x.sgd")]
    [InlineData("export --model @good.model --onnx @x.onnx")]
    [InlineData("bench --device host --steps 1 --epochs 0 --copy-mib 1 20x3x2")]
    [InlineData("devices")]
    [InlineData("ptx")]
    public void AnUnexpectedExceptionIsOneErrorLineThatAsksForAReport(string commandLine)
    {
        var error = new StringWriter();
        int code = App.Run(Arguments(commandLine), new ThrowingWriter(), error);
        string err = error.ToString();
        AssertOneErrorLine(commandLine, code, err);
        Assert.Contains($"error: {ThrowingWriter.Message} (internal error: {nameof(NotImplementedException)}; please report)", err);
    }

    private string[] Arguments(string commandLine) =>
        commandLine.Split(' ').Select(a => a switch
        {
            "@iris" => Check.IrisPath,
            _ when a.StartsWith('@') => PathOf(a[1..]),
            _ => a,
        }).ToArray();

    private static void AssertOneErrorLine(string commandLine, int code, string err)
    {
        string[] lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(code == 1, $"{commandLine}: exit code {code}\n{err}");
        Assert.True(lines.Count(l => l.StartsWith("error: ", StringComparison.Ordinal)) == 1, $"{commandLine}: not one error: line\n{err}");
        Assert.False(lines.Any(l => l.StartsWith("   at ", StringComparison.Ordinal)), $"{commandLine}: a stack trace\n{err}");
    }

    /// <summary>A standard output that fails on the first character with an exception of a type nobody catches by name.</summary>
    private sealed class ThrowingWriter : TextWriter
    {
        public const string Message = "standard output broke (injected by the test)";

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value) => throw new NotImplementedException(Message);
    }
}
