using SoftmaxGpu.Cli;
using SoftmaxGpu.Data;

namespace SoftmaxGpu.Tests;

/// <summary>
/// Every output path of every command is checked before any work (its folder exists and takes a file, it is not an
/// input of the same command), and a command that fails writes nothing.
/// </summary>
public sealed class OutputPathsTests() : CliFolder("softmaxgpu-outputs-")
{
    private string CopyOfIris()
    {
        string copy = PathOf("iris-copy.csv");
        File.Copy(Check.IrisPath, copy);
        return copy;
    }

    /// <summary>Files left in the folder besides <paramref name="expected"/> (staged or probe files included).</summary>
    private void AssertOnly(params string[] expected) =>
        Assert.Equal(expected.Select(Path.GetFileName).Order(), Directory.GetFiles(Folder).Select(Path.GetFileName).Order());

    private string TrainIris()
    {
        string model = PathOf("iris.model");
        var train = Run("train", "--data", Check.IrisPath, "--model", model, "--epochs", "3");
        Assert.True(train.Code == 0, train.Err);
        return model;
    }

    [Fact]
    public void TrainRefusesToWriteTheModelOverItsData()
    {
        string data = CopyOfIris();
        byte[] before = File.ReadAllBytes(data);
        var train = Run("train", "--data", data, "--model", data);
        Assert.Equal(1, train.Code);
        Assert.Contains($"error: --model {data} is the input file (--data); choose another path", train.Err);
        Assert.DoesNotContain("data: ", train.Out); // refused before reading
        Assert.Equal(before, File.ReadAllBytes(data));

        // The same file under another spelling is still the same file.
        string other = Path.Combine(Folder, ".", "iris-copy.csv");
        Assert.Contains("is the input file (--data)", Run("train", "--data", data, "--model", other).Err);
        string val = Write("val.csv", File.ReadAllText(data));
        Assert.Contains("is the input file (--val)", Run("train", "--data", data, "--val", val, "--log-json", val).Err);
        string model = TrainIris();
        Assert.Contains("is the input file (--init-model)",
            Run("train", "--data", data, "--init-model", model, "--model", model).Err);
    }

    [Fact]
    public void PredictConvertAndExportRefuseToWriteOverTheirInputs()
    {
        string data = CopyOfIris();
        byte[] before = File.ReadAllBytes(data);
        string model = TrainIris();
        byte[] modelBefore = File.ReadAllBytes(model);

        var predict = Run("predict", "--model", model, "--data", data, "--out", data);
        Assert.Equal(1, predict.Code);
        Assert.Contains($"error: --out {data} is the input file (--data); choose another path", predict.Err);
        Assert.Contains("is the input file (--model)", Run("predict", "--model", model, "--data", data, "--out", model).Err);
        Assert.Contains("is the input file (--data)", Run("convert", "--data", data, "--out", data).Err);
        Assert.Contains("is the input file (--model)", Run("export", "--model", model, "--onnx", model).Err);
        Assert.Equal(before, File.ReadAllBytes(data));
        Assert.Equal(modelBefore, File.ReadAllBytes(model));
    }

    [Theory]
    [InlineData("train", "--model", "m.model")]
    [InlineData("train", "--plot", "p.png")]
    [InlineData("train", "--log-json", "x")]
    [InlineData("predict", "--out", "p.csv")]
    [InlineData("evaluate", "--plot", "p.png")]
    [InlineData("convert", "--out", "d.sgd")]
    [InlineData("export", "--onnx", "m.onnx")]
    public void AnOutputInAMissingFolderFailsBeforeAnyWork(string command, string option, string name)
    {
        string model = command is "predict" or "evaluate" or "export" ? TrainIris() : PathOf("m.model");
        string[] inputs = command switch
        {
            "train" when option == "--model" => ["--data", Check.IrisPath],
            "train" => ["--data", Check.IrisPath, "--model", PathOf("m.model")],
            "convert" => ["--data", Check.IrisPath],
            "export" => ["--model", model],
            _ => ["--model", model, "--data", Check.IrisPath],
        };
        string missing = Path.Combine(Folder, "no", "such", "dir");
        var result = Run([command, .. inputs, option, Path.Combine(missing, name)]);
        Assert.Equal(1, result.Code);
        Assert.Equal($"error: {option}: {missing} does not exist", result.Err.Trim());
        Assert.Equal("", result.Out); // nothing was read or trained
        AssertOnly(command is "predict" or "evaluate" or "export" ? [model] : []);
    }

    [Fact]
    public void AFolderThatTakesNoFileIsRefusedByName()
    {
        // /proc refuses new files even to root, which a chmod'ed folder would not.
        if (!OperatingSystem.IsLinux())
            Assert.Skip("needs /proc");
        var train = Run("train", "--data", Check.IrisPath, "--model", "/proc/m.model");
        Assert.Equal(1, train.Code);
        Assert.StartsWith("error: --model: cannot write in /proc (", train.Err);
        Assert.Equal("", train.Out);
    }

    [Fact]
    public void AnOutputThatIsAFolderOrAnotherOutputIsRefused()
    {
        var folder = Run("train", "--data", Check.IrisPath, "--model", Folder);
        Assert.Contains($"error: --model: {Folder} is a folder; give a file path in it", folder.Err);
        string model = PathOf("m.model");
        var twice = Run("train", "--data", Check.IrisPath, "--model", model, "--log-json", model);
        Assert.Equal(1, twice.Code);
        Assert.Contains($"error: --log-json {model} is also the --model file; choose another path", twice.Err);
        AssertOnly();
    }

    [Fact]
    public void TrainingThatFailsWritesNeitherModelNorPlotNorLog()
    {
        // A learning rate this large overflows in the first epochs: training fails after the log has begun.
        string model = PathOf("m.model"), plot = PathOf("p.png"), log = PathOf("log.jsonl");
        var train = Run("train", "--data", Check.IrisPath, "--model", model, "--plot", plot, "--log-json", log,
            "--optimizer", "sgd", "--lr", "3e38", "--lr-schedule", "constant", "--batch-size", "0", "--epochs", "50");
        Assert.Equal(1, train.Code);
        Assert.Contains("lower learning rate", train.Err);
        AssertOnly();
    }

    [Fact]
    public void TrainWritesModelPlotAndLogTogether()
    {
        string model = PathOf("m.model"), plot = PathOf("p.png"), log = PathOf("log.jsonl");
        var train = Run("train", "--data", Check.IrisPath, "--model", model, "--plot", plot, "--log-json", log, "--epochs", "5");
        Assert.True(train.Code == 0, train.Err);
        AssertOnly(model, plot, log);
        Assert.Equal(5, File.ReadAllLines(log).Length);
    }

    [Fact]
    public void StagedFilesAppearOnlyOnCommit()
    {
        string a = PathOf("a.png"), b = PathOf("b.model");
        File.WriteAllText(b, "old");
        using (var outputs = new OutputPaths())
        {
            File.WriteAllText(outputs.Stage(a), "new a");
            File.WriteAllText(outputs.Stage(b), "new b");
            Assert.EndsWith(".png", outputs.Stage(PathOf("c.png"))); // the plot writer checks the extension
            Assert.False(File.Exists(a));
            Assert.Equal("old", File.ReadAllText(b));
        } // not committed: a failed command
        AssertOnly(b);
        Assert.Equal("old", File.ReadAllText(b));

        using (var outputs = new OutputPaths())
        {
            File.WriteAllText(outputs.Stage(a), "new a");
            File.WriteAllText(outputs.Stage(b), "new b");
            outputs.Commit();
        }
        AssertOnly(a, b);
        Assert.Equal("new b", File.ReadAllText(b));
    }

    /// <summary>What `stat` says a path is ("fifo", "symbolic link", "regular file", "character special file").</summary>
    private static string FileType(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%F", path])
            { RedirectStandardOutput = true })!;
        string type = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return type;
    }

    [Fact]
    public async Task AFifoIsWrittenThroughNotReplaced()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "mkfifo and stat as on Linux");
        string model = TrainIris(), fifo = PathOf("predictions");
        System.Diagnostics.Process.Start("mkfifo", [fifo])!.WaitForExit();
        Assert.Equal("fifo", FileType(fifo));
        // A reader on the other end, as `cat fifo` would be: it gets what predict writes, until predict closes it.
        Task<string> reader = Task.Run(() => File.ReadAllText(fifo), TestContext.Current.CancellationToken);
        var predict = Run("predict", "--model", model, "--data", Check.IrisPath, "--out", fifo);
        Assert.True(predict.Code == 0, predict.Err);
        string read = await reader.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken); // else: no end of file
        Assert.Equal(151, read.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // the header and 150 rows
        Assert.Equal("fifo", FileType(fifo)); // a rename would have left a regular file
    }

    [Fact]
    public void ASymbolicLinkIsWrittenThroughAndStays()
    {
        string real = PathOf("v3.model"), link = PathOf("current.model");
        File.WriteAllText(real, "old");
        File.CreateSymbolicLink(link, real);
        var train = Run("train", "--data", Check.IrisPath, "--model", link, "--plot", PathOf("p.png"), "--epochs", "3");
        Assert.True(train.Code == 0, train.Err);
        Assert.Equal(real, new FileInfo(link).LinkTarget); // still the link
        Assert.NotEqual("old", File.ReadAllText(real)); // and the file it leads to is the model
        var evaluate = Run("evaluate", "--model", link, "--data", Check.IrisPath);
        Assert.True(evaluate.Code == 0, evaluate.Err);
        AssertOnly(real, link, PathOf("p.png")); // nothing staged left beside either
    }

    [Fact]
    public void DevicesAreWrittenInPlace()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/dev/null as on Linux");
        // What decides it, checked without writing to /dev/null through the commands (as root, a regression there would
        // replace the machine's /dev/null): it opens in place, and a new file or a regular one does not.
        Assert.True(AtomicFile.IsDevice("/dev/null"));
        using (Stream? devNull = AtomicFile.OpenInPlace("/dev/null"))
            Assert.NotNull(devNull);
        Assert.True(AtomicFile.IsStandardOutput("/dev/stdout") && AtomicFile.IsDevice("/dev/stdout"));
        using (var outputs = new OutputPaths())
            Assert.Equal("/dev/null", outputs.Stage("/dev/null")); // written through, never staged beside /dev/null
        string plain = Write("plain.txt", "x");
        Assert.False(AtomicFile.IsDevice(plain));
        Assert.Null(AtomicFile.OpenInPlace(plain));
        Assert.Null(AtomicFile.OpenInPlace(PathOf("new.txt")));
        // And the options take it: no folder check of /dev, two outputs there at once.
        OutputPaths.Check([("--model", "/dev/null"), ("--log-json", "/dev/null")], [("--data", Check.IrisPath)]);
    }

    [Fact]
    public void PathsThatTakeNoFileSayWhyInTheirWords()
    {
        Directory.CreateDirectory(PathOf("adir"));
        var folder = Run("evaluate", "--model", PathOf("adir"), "--data", Check.IrisPath);
        Assert.Equal(1, folder.Code);
        Assert.Contains($"{PathOf("adir")}: a folder, not a model file", folder.Err);

        string file = Write("plain.txt", "x");
        var ptx = Run("ptx", "--out", file);
        Assert.Equal(1, ptx.Code);
        Assert.Contains($"--out {file} is a file; --out names a folder for the kernels' PTX files", ptx.Err);

        if (OperatingSystem.IsLinux())
        {
            var proc = Run("train", "--data", Check.IrisPath, "--model", "/proc/x.model");
            Assert.Equal(1, proc.Code);
            Assert.Contains("error: --model: cannot write in /proc (it takes no new files)", proc.Err);
        }
    }

    /// <summary>
    /// /dev/stdout is this process's standard output where it stands: a file the shell appends to keeps its earlier lines
    /// (reopened from its start, it lost them), and predict's summary goes to standard error, out of the CSV.
    /// </summary>
    [Fact]
    public void StandardOutputIsWrittenWhereItStands()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/dev/stdout and sh as on Linux");
        string model = TrainIris(), into = PathOf("into.txt");
        string command = string.Join(' ', CliCommand.Select(a => $"'{a}'"));
        using var shell = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sh",
            ["-c", $"{{ echo BEFORE; {command} predict --model '{model}' --data '{Check.IrisPath}' --out /dev/stdout; echo AFTER; }} > '{into}' 2>/dev/null"]))!;
        shell.WaitForExit();
        string[] lines = File.ReadAllLines(into);
        Assert.Equal("BEFORE", lines[0]);
        Assert.Equal("predicted", lines[1]);
        Assert.Equal("AFTER", lines[^1]);
        Assert.Equal(1 + 1 + 150 + 1, lines.Length); // no summary line among the predictions
    }

    /// <summary>train --log-json /dev/stdout: standard output is the JSON lines alone (what train says goes to standard error).</summary>
    [Fact]
    public async Task TrainsLogOnStandardOutputIsTheLogAlone()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "/dev/stdout as on Linux");
        CancellationToken cancel = TestContext.Current.CancellationToken;
        using var train = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(CliCommand[0],
            [.. CliCommand[1..], "train", "--data", Check.IrisPath, "--model", PathOf("m"), "--log-json", "/dev/stdout",
             "--optimizer", "lbfgs", "--epochs", "3"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        Task<string> output = train.StandardOutput.ReadToEndAsync(cancel), error = train.StandardError.ReadToEndAsync(cancel);
        await train.WaitForExitAsync(cancel);
        string said = await error;
        Assert.True(train.ExitCode == 0, said);
        string[] lines = (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.All(lines, line => System.Text.Json.JsonDocument.Parse(line).Dispose());
        Assert.Contains("model: ", said);
    }

    [Fact]
    public void ALinkToAFileNotYetMadeMakesIt()
    {
        string model = TrainIris(), target = PathOf("made-by-predict.csv"), link = PathOf("predictions.csv");
        File.CreateSymbolicLink(link, target);
        var predict = Run("predict", "--model", model, "--data", Check.IrisPath, "--out", link);
        Assert.True(predict.Code == 0, predict.Err);
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.Equal(151, File.ReadAllLines(target).Length);
    }

    [Fact]
    public void ConvertToAFifoSaysASgdFileIsAFile()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "mkfifo as on Linux");
        string fifo = PathOf("rows.sgd");
        System.Diagnostics.Process.Start("mkfifo", [fifo])!.WaitForExit();
        Task drain = Task.Run(() => File.ReadAllBytes(fifo), TestContext.Current.CancellationToken); // a reader, so the open does not wait
        var convert = Run("convert", "--data", Check.IrisPath, "--out", fifo);
        Assert.Equal(1, convert.Code);
        Assert.Contains("a .sgd file is finished by writing its header at its start, so it is written to a file", convert.Err);
    }
}
