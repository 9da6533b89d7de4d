using System.Runtime.InteropServices;
using Spectre.Console;
using SoftmaxGpu.Data;

namespace SoftmaxGpu.Cli;

/// <summary>
/// Ctrl-C (SIGINT) and SIGTERM end any command cleanly: the temporary files of its writes in progress are deleted
/// (<see cref="AtomicFile.Abandon"/>), the terminal's cursor is shown again (train's live line hides it), one line
/// on standard error says what was written (<c>interrupted: nothing written</c>), and the process exits with 130
/// (128 + SIGINT, what a shell reports for Ctrl-C) for either signal: a script that checks for 130 sees every
/// interrupted command the same way, however it was stopped.
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
        Environment.Exit(App.Interrupted);
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
