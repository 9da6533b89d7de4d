using System.Runtime.InteropServices;
using Spectre.Console;
using SoftmaxGpu.Data;

namespace SoftmaxGpu.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM end any command cleanly: the temporary files of its writes in progress are deleted
/// (<see cref="AtomicFile.Abandon"/>), the terminal's cursor is shown again (train's live line hides it), one line
/// on standard error says what was written (<c>interrupted: nothing written</c>), and the process exits with
/// 128 + the signal's number, as a shell reports a process that a signal stopped: 130 for Ctrl-C, 143 for SIGTERM.
/// For the console app's process only (Program.Main): it ends the process.
/// </summary>
public sealed class Interrupts : IDisposable
{
    private readonly TextWriter error;
    private readonly List<PosixSignalRegistration> registrations = [];
    private readonly List<string> written = [];
    private volatile bool stopping;

    private Interrupts(TextWriter error)
    {
        this.error = error;
        AtomicFile.Written += OnWritten;
        foreach (PosixSignal signal in (PosixSignal[])[PosixSignal.SIGINT, PosixSignal.SIGTERM])
        {
            try
            {
                registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
            }
            catch (PlatformNotSupportedException)
            {
                // This system has no such signal (SIGTERM on some Windows versions): nothing sends it.
            }
        }
    }

    /// <summary>From now until disposed, SIGINT and SIGTERM end this process as the summary says.</summary>
    public static Interrupts Handle(TextWriter error) => new(error);

    /// <summary>The line for standard error: which files were written before the signal came.</summary>
    public static string Message(IReadOnlyList<string> written) =>
        written.Count == 0 ? "interrupted: nothing written" : $"interrupted: only {string.Join(", ", written)} written";

    private void OnWritten(string path)
    {
        lock (written)
            written.Add(path);
    }

    private void OnSignal(PosixSignalContext context)
    {
        stopping = true;
        context.Cancel = true; // this handler ends the process itself, once it has cleaned up
        AtomicFile.Abandon();
        if (!Console.IsOutputRedirected)
            AnsiConsole.Cursor.Show();
        string[] done;
        lock (written)
            done = [.. written];
        // On a terminal the shell has echoed ^C where the cursor was (perhaps after a live progress line).
        error.WriteLine((Console.IsErrorRedirected ? "" : Environment.NewLine) + Message(done));
        error.Flush();
        Environment.Exit(context.Signal == PosixSignal.SIGTERM ? 143 : App.Interrupted);
    }

    public void Dispose()
    {
        // The command may return (a write it was making failed as abandoned) while the handler is still
        // cleaning up: the handler ends the process, with its line and its exit code.
        if (stopping)
            Thread.Sleep(Timeout.Infinite);
        AtomicFile.Written -= OnWritten;
        foreach (PosixSignalRegistration registration in registrations)
            registration.Dispose();
    }
}
