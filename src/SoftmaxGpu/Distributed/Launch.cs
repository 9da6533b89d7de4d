namespace SoftmaxGpu.Distributed;

/// <summary>
/// How a process finds its place in a data-parallel job: whether a launcher (mpirun, mpiexec, srun) started
/// it, its rank on its node, and which of the node's GPUs it takes.
/// </summary>
public static class Launch
{
    /// <summary>
    /// This process's communicator: the MPI job when a launcher started it (<see cref="Mpi.Detect"/>), else
    /// <see cref="SingleProcess"/> without touching any MPI library.
    /// </summary>
    public static ICommunicator Join() => Mpi.Detect() is MpiAbi abi ? Mpi.Start(abi) : SingleProcess.Instance;

    /// <summary>
    /// This rank's index among the ranks on its node (Open MPI's OMPI_COMM_WORLD_LOCAL_RANK, MPICH's
    /// MPI_LOCALRANKID), or its world rank where the launcher does not say (one node).
    /// </summary>
    public static int LocalRank(ICommunicator ranks, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        foreach (string name in (string[])["OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID"])
            if (int.TryParse(environment(name), out int local) && local >= 0)
                return local;
        return ranks.Rank;
    }

    /// <summary>The device a rank takes among the node's <paramref name="devices"/> of one backend: local rank mod G.</summary>
    public static int DeviceIndex(int localRank, int devices) => devices <= 1 ? 0 : localRank % devices;
}
