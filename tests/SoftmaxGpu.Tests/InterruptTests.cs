using System.Diagnostics;

namespace SoftmaxGpu.Tests;

/// <summary>
/// A command stopped by Ctrl-C or SIGTERM leaves nothing behind: the CLI in a process of its own converts rows
/// that keep coming through a named pipe (so it is surely in the middle of writing, however fast the machine) and
/// gets the signal once its temporary file exists; it must exit 130 (143), say "interrupted: nothing written",
/// and leave no file. A later write removes the temporary files that a killed process left of its target.
/// </summary>
public sealed class InterruptTests() : CliFolder("softmaxgpu-interrupt-")
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    /// <summary>No process has this id: Linux's pid_max is at most 2^22, and Windows' ids are multiples of 4.</summary>
    private const int NoSuchProcess = int.MaxValue - 1;

    [Theory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    public async Task ConvertStoppedByASignalLeavesNoFileAndSaysSo(string signal, int exitCode)
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "POSIX signals and named pipes: Linux and macOS only");
        CancellationToken cancel = TestContext.Current.CancellationToken;
        string csv = PathOf("rows.csv"), sgd = PathOf("rows.sgd");
        Exec("mkfifo", csv);
        // Rows without end: the convert is still reading and writing whenever the signal comes.
        using Process rows = Start("sh", "-c", "{ echo a,b,label; yes 1,2,x; } > \"$0\"", csv);
        using Process convert = Start([.. CliCommand, "convert", "--data", csv, "--out", sgd]);
        Task<string> output = convert.StandardOutput.ReadToEndAsync(cancel), error = convert.StandardError.ReadToEndAsync(cancel);
        try
        {
            var clock = Stopwatch.StartNew();
            while (TemporaryFiles().Length == 0 && !convert.HasExited && clock.Elapsed < Limit)
                await Task.Delay(20, cancel);
            Assert.True(TemporaryFiles().Length == 1, $"convert wrote no temporary file within {Limit.TotalSeconds} s");
            // The shell's own kill: a minimal root (CI's PoCL pass) may have no kill program.
            Exec("sh", "-c", $"kill -{signal} \"$0\"", convert.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            limit.CancelAfter(Limit);
            await convert.WaitForExitAsync(limit.Token);
        }
        finally
        {
            if (!convert.HasExited)
                convert.Kill(entireProcessTree: true);
            if (!rows.HasExited)
                rows.Kill(entireProcessTree: true);
        }
        Assert.Equal(exitCode, convert.ExitCode);
        Assert.Equal("interrupted: nothing written", (await error).Trim());
        Assert.Equal("", await output);
        Assert.Empty(TemporaryFiles());
        Assert.False(File.Exists(sgd), $"{sgd} was written");
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
