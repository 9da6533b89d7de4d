using System.Runtime.InteropServices;

namespace SoftmaxGpu.Distributed;

/// <summary>The two MPI ABIs <see cref="Mpi"/> binds.</summary>
public enum MpiAbi
{
    /// <summary>MPICH's, shared by Intel MPI and MVAPICH: libmpich.so.12, integer handles.</summary>
    Mpich,
    /// <summary>Open MPI's: libmpi.so.40, handles are addresses of its globals.</summary>
    OpenMpi,
}

/// <summary>
/// The few MPI calls data-parallel training needs (Init, Finalize, Comm_rank, Comm_size, Allreduce, Barrier,
/// Abort), bound at run time through <see cref="NativeLibrary"/> so that a process started alone never loads an
/// MPI library. Two ABIs, chosen by the launcher that started the process (<see cref="Detect"/>):
/// <list type="bullet">
/// <item>MPICH (and the MPICH ABI: Intel MPI, MVAPICH) — libmpich.so.12; handles are int constants from its
/// mpi.h: MPI_COMM_WORLD 0x44000000, MPI_DOUBLE 0x4c00080b, MPI_INT64_T 0x4c00083a, MPI_MAX 0x58000001,
/// MPI_MIN 0x58000002, MPI_SUM 0x58000003; MPI_IN_PLACE is (void*)−1.</item>
/// <item>Open MPI — libmpi.so.40; handles are the addresses of exported globals (ompi_mpi_comm_world,
/// ompi_mpi_double, ompi_mpi_int64_t, ompi_mpi_op_sum, …); MPI_IN_PLACE is (void*)1.</item>
/// </list>
/// A handle is passed as a pointer-sized integer either way: the System V and AArch64 calling conventions pass
/// an int argument in the low half of the same register. MPI's default error handler ends the job on a failed
/// call; a non-zero return is still checked.
/// </summary>
public sealed unsafe class Mpi : ICommunicator, IDisposable
{
    /// <summary>Names the library to load instead of the ABI's default (a path or a soname).</summary>
    public const string LibraryVariable = "SOFTMAXGPU_MPI_LIBRARY";

    private static readonly string[] MpichLibraries = ["libmpich.so.12", "libmpi.so.12", "libmpich.so"];
    private static readonly string[] OpenMpiLibraries = ["libmpi.so.40", "libmpi.so"];

    private readonly IntPtr library;
    private readonly nint world, float64, int64, sum, min, max, inPlace;
    private readonly delegate* unmanaged<int> finalize;
    private readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> allreduce;
    private readonly delegate* unmanaged<nint, int> barrier;
    private readonly delegate* unmanaged<nint, int, int> abort;
    private bool finalized;

    private Mpi(MpiAbi abi, IntPtr library)
    {
        this.library = library;
        Abi = abi;
        if (abi == MpiAbi.Mpich)
            (world, float64, int64, max, min, sum, inPlace) = (0x44000000, 0x4c00080b, 0x4c00083a, 0x58000001, 0x58000002, 0x58000003, -1);
        else
            (world, float64, int64, max, min, sum, inPlace) = (Global("ompi_mpi_comm_world"), Global("ompi_mpi_double"),
                Global("ompi_mpi_int64_t"), Global("ompi_mpi_op_max"), Global("ompi_mpi_op_min"), Global("ompi_mpi_op_sum"), 1);
        finalize = (delegate* unmanaged<int>)Function("MPI_Finalize");
        allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Function("MPI_Allreduce");
        barrier = (delegate* unmanaged<nint, int>)Function("MPI_Barrier");
        abort = (delegate* unmanaged<nint, int, int>)Function("MPI_Abort");

        var initialized = (delegate* unmanaged<int*, int>)Function("MPI_Initialized");
        int already;
        Check(initialized(&already), "MPI_Initialized");
        if (already == 0)
            Check(((delegate* unmanaged<int*, byte***, int>)Function("MPI_Init"))(null, null), "MPI_Init");
        int rank, size;
        Check(((delegate* unmanaged<nint, int*, int>)Function("MPI_Comm_rank"))(world, &rank), "MPI_Comm_rank");
        Check(((delegate* unmanaged<nint, int*, int>)Function("MPI_Comm_size"))(world, &size), "MPI_Comm_size");
        (Rank, Size) = (rank, size);
    }

    public MpiAbi Abi { get; }
    public int Rank { get; }
    public int Size { get; }

    /// <summary>
    /// The MPI ABI of the launcher that started this process, from the environment it sets (Open MPI's
    /// OMPI_COMM_WORLD_*, the PMI_*/HYDRA_* of MPICH's Hydra and of other PMI launchers), or null when no
    /// launcher started it: then training runs alone and no MPI library is loaded.
    /// </summary>
    public static MpiAbi? Detect(Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (environment("OMPI_COMM_WORLD_SIZE") is not null)
            return MpiAbi.OpenMpi;
        if (environment("PMI_SIZE") is not null || environment("PMI_RANK") is not null || environment("HYDRA_CONTROL_FD") is not null)
            return MpiAbi.Mpich;
        return null;
    }

    /// <summary>Loads the ABI's library and joins the job (MPI_Init), or says what to install.</summary>
    public static Mpi Start(MpiAbi abi)
    {
        string[] names = Environment.GetEnvironmentVariable(LibraryVariable) is { Length: > 0 } given ? [given]
            : abi == MpiAbi.Mpich ? MpichLibraries : OpenMpiLibraries;
        foreach (string name in names)
            if (NativeLibrary.TryLoad(name, out IntPtr handle))
                return new Mpi(abi, handle);
        string install = abi == MpiAbi.Mpich ? "apt-get install mpich" : "apt-get install openmpi-bin";
        throw new DllNotFoundException($"started by an {(abi == MpiAbi.Mpich ? "MPICH" : "Open MPI")} launcher, but none of " +
                                       $"{string.Join(", ", names)} loads: install its library ({install}) or name it in {LibraryVariable}");
    }

    public void Sum(Span<double> values)
    {
        fixed (double* buffer = values)
            Check(allreduce((void*)inPlace, buffer, values.Length, float64, sum, world), "MPI_Allreduce");
    }

    public (long Min, long Max) MinMax(long value)
    {
        long low = value, high = value;
        Check(allreduce((void*)inPlace, &low, 1, int64, min, world), "MPI_Allreduce");
        Check(allreduce((void*)inPlace, &high, 1, int64, max, world), "MPI_Allreduce");
        return (low, high);
    }

    /// <summary>Waits until every rank has called it.</summary>
    public void Barrier() => Check(barrier(world), "MPI_Barrier");

    /// <summary>How long a failing rank waits between its last output and MPI_Abort.</summary>
    private static readonly TimeSpan AbortGrace = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Ends the whole job. The launcher's proxy forwards each rank's standard error through a pipe and MPI_Abort tears
    /// the job down at once, so the caller's last lines (already flushed) get a moment to pass first: without it,
    /// MPICH lost rank 1's error line in about one job in six (MpiTests.ARankReadingACorruptBlockEndsTheJobWithItsMessage).
    /// </summary>
    public void Abort(int exitCode)
    {
        Thread.Sleep(AbortGrace);
        abort(world, exitCode);
        Environment.Exit(exitCode); // MPI_Abort does not return; should an implementation return, still end
    }

    /// <summary>Leaves the job (MPI_Finalize; collective: every rank must reach it).</summary>
    public void Dispose()
    {
        if (finalized)
            return;
        finalized = true;
        Check(finalize(), "MPI_Finalize");
    }

    private IntPtr Function(string name) =>
        NativeLibrary.TryGetExport(library, name, out IntPtr address) ? address
            : throw new EntryPointNotFoundException($"the MPI library has no {name}: not an {Abi} library?");

    private nint Global(string name) => Function(name);

    private static void Check(int code, string call)
    {
        if (code != 0)
            throw new InvalidOperationException($"{call} failed with MPI error code {code}");
    }
}
