using System.Diagnostics;

namespace SoftmaxGpu.Data;

/// <summary>
/// Writes a file whole or not at all: into a temporary file beside it, <c>.NAME.PID.tmp</c>, then a rename over
/// the target. A process that is ending on a signal calls <see cref="Abandon"/>, which deletes the temporary
/// files of the writes in progress and stops their renames; a temporary file left by a process that was killed
/// outright (its PID no longer running) is deleted by the next write of the same target.
///
/// A symbolic link is written through: the file it leads to is replaced, the link stays. A path that is not a file a
/// rename could replace — a device (<c>/dev/null</c>), a FIFO, a pipe or terminal (<c>/dev/stdout</c>) — is written in
/// place (<see cref="OpenInPlace"/>): a rename would put a plain file where the device was.
/// </summary>
public static class AtomicFile
{
    private static readonly Lock Gate = new();

    /// <summary>The writes in progress in this process: temporary file → target.</summary>
    private static readonly Dictionary<string, string> InProgress = [];

    private static bool abandoned;

    /// <summary>One lock a target: threads of this process writing the same file take turns (the last write wins), as
    /// they share its temporary file's name.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lock> Targets = new();

    /// <summary>Raised with the target's full path after each completed write (its rename).</summary>
    public static event Action<string>? Written;

    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        if (Directory.Exists(path))
            throw new DataFormatException($"{path}: a folder, not a file to write");
        using (Stream? direct = OpenInPlace(path))
        {
            if (direct is not null)
            {
                write(direct);
                direct.Flush();
                Written?.Invoke(Path.GetFullPath(path));
                return;
            }
        }
        string full = Target(path);
        lock (Targets.GetOrAdd(full, _ => new Lock()))
            WriteThroughTemporary(path, full, write);
    }

    private static void WriteThroughTemporary(string path, string full, Action<Stream> write)
    {
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
    /// Puts <paramref name="staged"/>, a finished file, in <paramref name="target"/>'s place: a rename over the file it
    /// leads to, or, where the target is written in place (<see cref="OpenInPlace"/>), a copy into it and the staged file
    /// deleted.
    /// </summary>
    public static void Replace(string staged, string target)
    {
        using (Stream? direct = OpenInPlace(target))
        {
            if (direct is not null)
            {
                using (var source = new FileStream(staged, FileMode.Open, FileAccess.Read))
                    source.CopyTo(direct);
                File.Delete(staged);
                return;
            }
        }
        File.Move(staged, Target(target), overwrite: true);
    }

    /// <summary>
    /// Where a write of <paramref name="path"/> lands: the file a symbolic link leads to (through every link), else the
    /// path itself; a full path.
    /// </summary>
    public static string Target(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            return File.Exists(full) && new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true) is FileSystemInfo target
                ? target.FullName
                : full;
        }
        catch (IOException)
        {
            return full; // a link that cannot be followed: the path, as a new file
        }
    }

    /// <summary>
    /// Whether <paramref name="path"/> is a device or a process's file that a write must go through rather than replace:
    /// it exists and leads into <c>/dev</c> (but for <c>/dev/shm</c>, where files are files) or <c>/proc</c>. FIFOs elsewhere
    /// are found when they are opened (<see cref="OpenInPlace"/>).
    /// </summary>
    public static bool IsDevice(string path)
    {
        if (!Unix || !File.Exists(path))
            return false;
        // The path as given (/dev/stdout, whatever stdout is) or where it leads (a link to /dev/null).
        return Special(Path.GetFullPath(path)) || Special(Target(path));

        static bool Special(string full) => full.StartsWith("/proc/", StringComparison.Ordinal)
            || full.StartsWith("/dev/", StringComparison.Ordinal) && !full.StartsWith("/dev/shm/", StringComparison.Ordinal);
    }

    /// <summary>
    /// /dev/stdout and /dev/stderr (/dev/fd/1, /proc/self/fd/2, …): this process's own standard streams, written where
    /// they stand — a file the shell appends to is appended to, its earlier lines kept — not that file opened anew from
    /// its start. Null for any other path.
    /// </summary>
    private static Stream? StandardStream(string path) =>
        IsStandardOutput(path) ? Console.OpenStandardOutput()
        : Unix && Path.GetFullPath(path) is "/dev/stderr" or "/dev/fd/2" or "/proc/self/fd/2"
            ? Console.OpenStandardError()
            : null;

    /// <summary>Whether <paramref name="path"/> names this process's standard output (/dev/stdout, /dev/fd/1, /proc/self/fd/1).</summary>
    public static bool IsStandardOutput(string path) =>
        Unix && Path.GetFullPath(path) is "/dev/stdout" or "/dev/fd/1" or "/proc/self/fd/1";

    /// <summary>Where /dev and /proc are what <see cref="IsDevice"/> and <see cref="StandardStream"/> take them for.</summary>
    private static bool Unix => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    /// <summary>
    /// <paramref name="path"/> opened for writing where it is written in place: a device (<see cref="IsDevice"/>), or a
    /// file that cannot seek (a FIFO, a pipe, a terminal); else null, and the write replaces it. An existing file is
    /// opened to find out, and only written through when it is one of these.
    /// </summary>
    public static Stream? OpenInPlace(string path)
    {
        if (StandardStream(path) is Stream standard)
            return standard;
        if (!File.Exists(path))
            return null; // a new file (or a folder, which the write refuses)
        bool device = IsDevice(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (UnauthorizedAccessException) when (!device)
        {
            return null; // a read-only file in a folder that takes new files: the rename replaces it
        }
        catch (FileNotFoundException)
        {
            return null; // a link that leads to no file yet: the write makes the file it leads to
        }
        catch (IOException) when (!device)
        {
            return null; // a file another process holds locked: the rename replaces it, as it always has
        }
        if (!stream.CanSeek || device)
            return stream;
        stream.Dispose();
        return null;
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

    /// <summary>
    /// Deletes the files a write of target <paramref name="name"/> in <paramref name="directory"/> left when its process was
    /// killed outright (no longer running): ".NAME.PID.tmp" (<see cref="Write"/>) and ".NAME.PID.staged.EXT" (a command's
    /// outputs staged to be moved into place together).
    /// </summary>
    public static void RemoveStale(string directory, string name)
    {
        string prefix = $".{name}.";
        foreach (string temp in Directory.EnumerateFiles(directory, $"{prefix}*"))
        {
            string[] rest = Path.GetFileName(temp)[prefix.Length..].Split('.', 2); // PID, then "tmp" or "staged[.EXT]"
            bool left = rest.Length == 2 && (rest[1] == "tmp" || rest[1] == "staged" || rest[1].StartsWith("staged.", StringComparison.Ordinal));
            if (left && int.TryParse(rest[0], out int id) && id != Environment.ProcessId && !Running(id))
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
