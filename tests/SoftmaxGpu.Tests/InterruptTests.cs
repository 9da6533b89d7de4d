using System.Diagnostics;

namespace SoftmaxGpu.Tests;

/// <summary>
/// A command stopped by Ctrl-C or SIGTERM leaves nothing behind: the CLI in a process of its own converts rows
/// that keep coming through a named pipe (so it is surely in the middle of writing, however fast the machine) and
/// gets the signal once its temporary file exists; it must exit 130 (for SIGTERM too), say "interrupted: nothing written",
/// and leave no file. A later write removes the temporary files that a killed process left of its target.
/// </summary>
public sealed class InterruptTests() : CliFolder("softmaxgpu-interrupt-")
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    /// <summary>No process has this id: Linux's pid_max is at most 2^22, and Windows' ids are multiples of 4.</summary>
    private const int NoSuchProcess = int.MaxValue - 1;

    [Theory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 130)]
    public async Task ConvertStoppedByASignalLeavesNoFileAndSaysSo(string signal, int exitCode)
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "POSIX signals and named pipes: Linux and macOS only");
        string csv = PathOf("rows.csv"), sgd = PathOf("rows.sgd");
        Exec("mkfifo", csv);
        // Rows without end: the convert is still reading and writing whenever the signal comes.
        using Process rows = Start("sh", "-c", "{ echo a,b,label; yes 1,2,x; } > \"$0\"", csv);
        try
        {
            await StopWhileWriting([.. CliCommand, "convert", "--data", csv, "--out", sgd], signal, exitCode, sgd);
        }
        finally
        {
            if (!rows.HasExited)
                rows.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task PredictStoppedByCtrlCLeavesNoFileAndSaysSo()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "POSIX signals: Linux and macOS only");
        var trained = Run("train", "--data", Write("small.csv", "a,label\n0,x\n1,y\n0.2,x\n0.9,y\n"), "--model", PathOf("small.model"), "--quiet");
        Assert.True(trained.Code == 0, trained.Err);
        // Four million rows of its one feature: predict writes their CSV for seconds, so it is surely writing when
        // the signal comes. Written with the library's writer: no CSV to parse first.
        string sgd = PathOf("rows.sgd"), predictions = PathOf("predictions.csv");
        using (FileStream file = File.Create(sgd))
        {
            var writer = new Data.SgdWriter(file, ["a"], "label");
            for (int i = 0; i < 4_000_000; i++)
                writer.Append([i % 7 / 7f], i % 2 == 0 ? "x" : "y");
            writer.Finish();
        }
        await StopWhileWriting([.. CliCommand, "predict", "--model", PathOf("small.model"), "--data", sgd, "--out", predictions],
            "INT", 130, predictions);
    }

    /// <summary>
    /// Starts <paramref name="command"/>, sends it the signal once its temporary file exists, and checks that it exits
    /// with <paramref name="exitCode"/>, says it wrote nothing, and leaves neither its temporary file nor <paramref name="target"/>.
    /// </summary>
    private async Task StopWhileWriting(string[] command, string signal, int exitCode, string target)
    {
        CancellationToken cancel = TestContext.Current.CancellationToken;
        using Process process = Start(command);
        Task<string> output = process.StandardOutput.ReadToEndAsync(cancel), error = process.StandardError.ReadToEndAsync(cancel);
        try
        {
            var clock = Stopwatch.StartNew();
            while (TemporaryFiles().Length == 0 && !process.HasExited && clock.Elapsed < Limit)
                await Task.Delay(20, cancel);
            Assert.True(TemporaryFiles().Length == 1, $"{string.Join(' ', command)} wrote no temporary file within {Limit.TotalSeconds} s");
            // The shell's own kill: a minimal root (CI's PoCL pass) may have no kill program.
            Exec("sh", "-c", $"kill -{signal} \"$0\"", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            limit.CancelAfter(Limit);
            await process.WaitForExitAsync(limit.Token);
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
        Assert.Equal(exitCode, process.ExitCode);
        // The last line on standard error (predict says which device runs first), and nothing on standard output.
        Assert.Equal("interrupted: nothing written", (await error).Trim().Split('\n')[^1].Trim());
        Assert.Equal("", await output);
        Assert.Empty(TemporaryFiles());
        Assert.False(File.Exists(target), $"{target} was written");
    }

    [Fact]
    public void AWriteRemovesTheTemporaryFilesAStoppedProcessLeftOfItsTarget()
    {
        string good = Write("good.csv", "a,b,label\n1,2,x\n2,1,y\n");
        int running = OperatingSystem.IsWindows() ? 4 : 1; // System; init
        string stale = Write($".out.sgd.{NoSuchProcess}.tmp", "left by a convert that was killed");
        string live = Write($".out.sgd.{running}.tmp", "being written by a process still running");
        string other = Write($".other.sgd.{NoSuchProcess}.tmp", "another target's: not this write's to remove");
        var done = Run("convert", "--data", good, "--out", PathOf("out.sgd"));
        Assert.True(done.Code == 0, done.Err);
        Assert.False(File.Exists(stale), $"{stale} is still there");
        Assert.True(File.Exists(live), $"{live} was removed, but its process is running");
        Assert.True(File.Exists(other), $"{other} was removed, but it is another target's");
    }

    [Fact]
    public void TrainRemovesTheStagedFilesAKilledTrainLeftOfItsOutputs()
    {
        // A train killed outright (SIGKILL) leaves what it staged: its --log-json, opened at the start, at least.
        string log = PathOf("x.json"), model = PathOf("x.model");
        string stale = Write($".x.json.{NoSuchProcess}.staged.json", "");
        string staleModel = Write($".x.model.{NoSuchProcess}.staged.model", "");
        int running = OperatingSystem.IsWindows() ? 4 : 1; // a train still running (System; init)
        string live = Write($".x.json.{running}.staged.json", "");
        var train = Run("train", "--data", Check.IrisPath, "--model", model, "--log-json", log, "--epochs", "3");
        Assert.True(train.Code == 0, train.Err);
        Assert.False(File.Exists(stale), $"{stale} is still there");
        Assert.False(File.Exists(staleModel), $"{staleModel} is still there");
        Assert.True(File.Exists(live), $"{live} was removed, but its process is running");
        Assert.True(File.Exists(log) && File.Exists(model));
    }

    private string[] TemporaryFiles() => Directory.GetFiles(Folder, ".*.tmp");

    private static Process Start(params string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in command[1..])
            start.ArgumentList.Add(arg);
        return Process.Start(start)!;
    }

    private static void Exec(params string[] command)
    {
        using Process process = Start(command);
        Assert.True(process.WaitForExit(Limit), $"{string.Join(" ", command)} did not end");
        Assert.True(process.ExitCode == 0, $"{string.Join(" ", command)}: exit code {process.ExitCode}\n{process.StandardError.ReadToEnd()}");
    }
}
