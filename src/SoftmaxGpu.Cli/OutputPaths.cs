using SoftmaxGpu.Data;

namespace SoftmaxGpu.Cli;

/// <summary>
/// The files a command writes (--model, --out, --plot, --log-json, --onnx), checked before any work so that a
/// typo costs nothing: each one's folder exists and takes a new file, none is a folder, none is one of the
/// command's input files (full paths compared), and no two are the same file. A command with several outputs
/// (train) also writes each into a staged file beside its target and moves them all into place at the end
/// (<see cref="Commit"/>): a command that fails writes nothing. A device (/dev/null, /dev/stdout) or a FIFO is written
/// through rather than replaced (<see cref="AtomicFile"/>).
/// </summary>
public sealed class OutputPaths : IDisposable
{
    private readonly List<(string Staged, string Target)> staged = [];
    private bool committed;

    /// <summary>
    /// Checks every given output (a null path is an option not given) against the folders and the inputs; throws
    /// <see cref="ArgumentException"/> naming the option.
    /// </summary>
    /// <param name="inputs">The files the command reads, by option: --data, --val, --init-model, --model of predict…</param>
    public static void Check(IEnumerable<(string Option, string? Path)> outputs, IEnumerable<(string Option, string? Path)> inputs)
    {
        var given = outputs.Where(o => o.Path is not null).Select(o => (o.Option, Path: o.Path!)).ToArray();
        var read = inputs.Where(i => i.Path is not null).Select(i => (i.Option, Path: i.Path!)).ToArray();
        for (int o = 0; o < given.Length; o++)
        {
            (string option, string path) = given[o];
            // A device (/dev/null, /dev/stdout) is written through, not replaced: its folder need not take new files, and
            // several outputs may go to it.
            if (AtomicFile.IsDevice(path))
                continue;
            CheckFolder(option, path);
            foreach ((string inputOption, string input) in read)
            {
                if (SameFile(path, input))
                    throw new ArgumentException($"{option} {path} is the input file ({inputOption}); choose another path");
            }
            for (int p = 0; p < o; p++)
            {
                if (!AtomicFile.IsDevice(given[p].Path) && SameFile(path, given[p].Path))
                    throw new ArgumentException($"{option} {path} is also the {given[p].Option} file; choose another path");
            }
        }
    }

    /// <summary>
    /// Where to write <paramref name="target"/> now: a staged file beside it (same folder, same extension), moved
    /// over the target by <see cref="Commit"/> and deleted by <see cref="Dispose"/> if the command fails first.
    /// </summary>
    public string Stage(string target)
    {
        if (AtomicFile.IsDevice(target))
            return target; // written through as it goes (/dev/null, /dev/stdout): nothing to stage or move
        string full = AtomicFile.Target(target); // beside the file a link leads to, which the commit replaces
        string name = Path.GetFileName(full);
        AtomicFile.RemoveStale(Path.GetDirectoryName(full)!, name); // what a killed command left of it
        string path = Path.Combine(Path.GetDirectoryName(full)!,
            $".{name}.{Environment.ProcessId}.staged{Path.GetExtension(name)}");
        staged.Add((path, full));
        AtomicFile.Track(path, full); // an interrupt deletes it (Interrupts)
        return path;
    }

    /// <summary>Moves every staged file that was written over its target: the command's outputs appear together.</summary>
    public void Commit()
    {
        foreach ((string path, string target) in staged)
        {
            if (File.Exists(path))
                AtomicFile.Replace(path, target);
            AtomicFile.Untrack(path);
        }
        committed = true;
    }

    /// <summary>Deletes what was staged but not committed (the command failed).</summary>
    public void Dispose()
    {
        if (committed)
            return;
        foreach ((string path, _) in staged)
        {
            if (File.Exists(path))
                File.Delete(path);
            AtomicFile.Untrack(path);
        }
    }

    private static void CheckFolder(string option, string path)
    {
        if (path.Length == 0)
            throw new ArgumentException($"{option} must name a file, got an empty path");
        if (Directory.Exists(path))
            throw new ArgumentException($"{option}: {path} is a folder; give a file path in it");
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        string shown = Path.GetDirectoryName(path) is { Length: > 0 } written ? written : folder;
        if (!Directory.Exists(folder))
            throw new ArgumentException($"{option}: {shown} does not exist");
        // The one reliable test that a new file can be made there is to make one (permissions, a read-only mount).
        string probe = Path.Combine(folder, $".softmaxgpu-probe.{Environment.ProcessId}.{Guid.NewGuid():N}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (UnauthorizedAccessException)
        {
            throw new ArgumentException($"{option}: cannot write in {shown} (permission denied)");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ArgumentException($"{option}: cannot write in {shown} (it takes no new files)"); // /proc, say
        }
        catch (IOException e)
        {
            throw new ArgumentException($"{option}: cannot write in {shown} ({e.Message.Replace($"'{probe}'", "").Replace(probe, "").Trim(' ', ':')})");
        }
    }

    /// <summary>Whether two paths name one file: full paths compared after following symbolic links.</summary>
    private static bool SameFile(string a, string b) =>
        string.Equals(Resolved(a), Resolved(b), OperatingSystem.IsLinux() ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);

    private static string Resolved(string path) => AtomicFile.Target(path.TrimEnd(Path.DirectorySeparatorChar));
}
