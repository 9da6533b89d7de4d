using System.Security.Cryptography;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Distributed;

namespace SoftmaxGpu.Cli;

/// <summary>
/// A command that every rank of an MPI job runs (<c>mpirun -np P softmaxgpu train …</c>), or one process alone.
/// It joins the job where a launcher started the process (alone it loads no MPI library), hands the body the
/// communicator and the output it may write (rank 0's standard output; nothing for the others), and turns a
/// failure on any rank into <c>error: rank r: …</c> on standard error and MPI_Abort of the whole job, so that
/// no rank is left waiting in a collective call for one that has stopped.
/// </summary>
public static class Ranked
{

    public static int Run(TextWriter output, TextWriter error, Func<ICommunicator, TextWriter, int> body)
    {
        if (Mpi.Detect() is null)
            return App.Guard(error, () => body(SingleProcess.Instance, output));
        Mpi ranks;
        try
        {
            ranks = (Mpi)Launch.Join();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or InvalidOperationException)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
        using (ranks)
        {
            int code;
            try
            {
                code = App.Guard(error, () => body(ranks, ranks.Rank == 0 ? output : TextWriter.Null), $"rank {ranks.Rank}: ");
            }
            catch (Exception e) // not a user-facing failure, but the other ranks must not wait for this one either
            {
                error.WriteLine($"error: rank {ranks.Rank}: {e.GetType().Name}: {e.Message}");
                code = 1;
            }
            if (code != 0)
            {
                output.Flush();
                error.Flush();
                ranks.Abort(code);
            }
            return code;
        }
    }

    /// <summary>Opens this rank's device (GPU local rank mod G of its node) and says on standard error which one runs.</summary>
    public static Gpu OpenDevice(string device, TextWriter error, ICommunicator ranks)
    {
        if (ranks.Size == 1)
            return App.OpenDevice(device, error);
        Gpu gpu = Gpu.Open(device, notice => error.WriteLine($"notice: rank {ranks.Rank}: {notice}"), Launch.LocalRank(ranks));
        error.WriteLine($"device: rank {ranks.Rank} of {ranks.Size}: {gpu.Description}");
        return gpu;
    }

    /// <summary>
    /// Requires every rank to have the same command line and the same data files (their sizes and first and last
    /// 64 KiB: a .sgd file's preamble and its footer of shapes, classes and statistics), before any data is read.
    /// </summary>
    public static void RequireSameStart(ICommunicator ranks, IEnumerable<string> tokens, params string?[] paths) =>
        Consensus.Require(ranks, "the command line or the data files", () =>
            string.Join("\n", tokens) + "\n" + string.Join("\n", paths.OfType<string>().Select(Identity)));

    /// <summary>A file's size and the hash of its ends; a folder's files' names and sizes.</summary>
    private static string Identity(string path)
    {
        if (Directory.Exists(path))
            return string.Join(";", Directory.GetFiles(path).Order(StringComparer.Ordinal)
                .Select(f => $"{Path.GetFileName(f)}:{new FileInfo(f).Length}"));
        if (!File.Exists(path))
            return $"{path}: missing";
        const int Edge = 64 << 10;
        using FileStream file = File.OpenRead(path);
        long length = file.Length;
        var ends = new byte[(int)Math.Min(length, 2 * Edge)];
        file.ReadExactly(ends, 0, (int)Math.Min(length, Edge));
        if (length > Edge)
        {
            file.Seek(Math.Max(Edge, length - Edge), SeekOrigin.Begin);
            file.ReadExactly(ends, (int)Math.Min(length, Edge), ends.Length - (int)Math.Min(length, Edge));
        }
        return $"{length}:{Convert.ToHexString(SHA256.HashData(ends))}";
    }
}
