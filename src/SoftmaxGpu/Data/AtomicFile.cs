using System.Diagnostics;

namespace SoftmaxGpu.Data;

/// <summary>
/// Writes a file whole or not at all: into a temporary file beside it, <c>.NAME.PID.tmp</c>, then a rename over
/// the target. A process that is ending on a signal calls <see cref="Abandon"/>, which deletes the temporary
/// files of the writes in progress and stops their renames; a temporary file left by a process that was killed
/// outright (its PID no longer running) is deleted by the next write of the same target.
/// </summary>
public static class AtomicFile
{
    private static readonly Lock Gate = new();

    /// <summary>The writes in progress in this process: temporary file → target.</summary>
    private static readonly Dictionary<string, string> InProgress = [];

    private static bool abandoned;

    /// <summary>Raised with the target's full path after each completed write (its rename).</summary>
    public static event Action<string>? Written;

    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(directory))
            throw new DataFormatException($"{path}: the folder {directory} does not exist");
        string name = Path.GetFileName(full);
        RemoveStale(directory, name);
        string temp = Path.Combine(directory, $".{name}.{Environment.ProcessId}.tmp");
        lock (Gate)
        {
            ThrowIfAbandoned(path);
            InProgress.Add(temp, full);
        }
        try
        {
            // FileShare.Delete: Abandon may delete the file while it is open here (on Windows too).
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.Delete))
            {
                write(file);
                file.Flush(flushToDisk: true);
            }
            lock (Gate)
            {
                ThrowIfAbandoned(path);
                File.Move(temp, full, overwrite: true);
            }
            Written?.Invoke(full);
        }
        finally
        {
            lock (Gate)
                InProgress.Remove(temp);
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    /// <summary>
    /// Counts <paramref name="temp"/>, a file another writer stages for <paramref name="target"/> (train's outputs,
    /// moved into place together at the end), as a write in progress: <see cref="Abandon"/> deletes it too.
    /// </summary>
    public static void Track(string temp, string target)
    {
        lock (Gate)
        {
            ThrowIfAbandoned(target);
            InProgress[temp] = target;
        }
    }

    /// <summary>Ends what <see cref="Track"/> began: the staged file was moved into place or deleted.</summary>
    public static void Untrack(string temp)
    {
        lock (Gate)
            InProgress.Remove(temp);
    }

    /// <summary>
    /// Ends every write in progress in this process, for a process that is about to exit on a signal: their
    /// temporary files are deleted and no rename happens after this call (a write that gets there throws
    /// <see cref="OperationCanceledException"/>). Returns the targets whose writes were abandoned.
    /// </summary>
    public static IReadOnlyList<string> Abandon()
    {
        lock (Gate)
        {
            abandoned = true;
            var targets = new List<string>();
            foreach ((string temp, string target) in InProgress)
            {
                try
                {
                    File.Delete(temp);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Its folder is gone, or it cannot be deleted now: the next write of the target will.
                }
                targets.Add(target);
            }
            return targets;
        }
    }

    private static void ThrowIfAbandoned(string path)
    {
        if (abandoned)
            throw new OperationCanceledException($"{path}: not written: the process is stopping");
    }

    /// <summary>Deletes ".NAME.PID.tmp" files of this target whose process is no longer running.</summary>
    private static void RemoveStale(string directory, string name)
    {
        string prefix = $".{name}.";
        foreach (string temp in Directory.EnumerateFiles(directory, $"{prefix}*.tmp"))
        {
            string pid = Path.GetFileName(temp)[prefix.Length..^".tmp".Length];
            if (int.TryParse(pid, out int id) && id != Environment.ProcessId && !Running(id))
            {
                try
                {
                    File.Delete(temp);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Another process cleaned it first, or it is not ours to delete.
                }
            }
        }
    }

    private static bool Running(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return true;
        }
        catch (ArgumentException) // no process has that id
        {
            return false;
        }
    }
}
