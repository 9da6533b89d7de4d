using SoftmaxGpu.Distributed;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>The pieces of data-parallel training that need no MPI: shards, launcher detection, device choice, the plan.</summary>
public sealed class DistributedTests
{
    [Theory]
    [InlineData(1797, 2)]
    [InlineData(1797, 3)]
    [InlineData(10, 7)]
    [InlineData(5, 5)]
    public void ShardsCoverTheRowsOnceInOrderAndDifferByAtMostOne(long rows, int ranks)
    {
        long next = 0;
        var sizes = new List<long>();
        for (int rank = 0; rank < ranks; rank++)
        {
            (long start, long count) = Shards.Range(rows, rank, ranks);
            Assert.Equal(next, start);
            next = start + count;
            sizes.Add(count);
        }
        Assert.Equal(rows, next);
        Assert.True(sizes.Max() - sizes.Min() <= 1, string.Join(", ", sizes));
        Assert.Equal(sizes.Max(), Shards.MostRows(rows, ranks));
    }

    [Fact]
    public void AShardOfASetInMemoryKeepsItsRowsLabelsAndTargets()
    {
        // 7 rows × 2 features, 3 classes: rank 1 of 2 holds rows 3..6.
        float[] x = Enumerable.Range(0, 14).Select(i => (float)i).ToArray();
        int[] y = [0, 1, 2, 0, 1, 2, 0];
        float[] targets = Enumerable.Range(0, 21).Select(i => i / 21f).ToArray();
        var set = new EncodedSet(x, y, targets, 7, 2);
        var shard = (EncodedSet)Shards.Of(set, new FakeRanks(1, 2));
        Assert.Equal(4, shard.Rows);
        Assert.Equal(x[6..], shard.Features);
        Assert.Equal(y[3..], shard.Labels);
        Assert.Equal(targets[9..], shard.Targets);
    }

    [Fact]
    public void TheLauncherIsFoundFromItsEnvironmentAndAloneNoneIs()
    {
        Assert.Null(Mpi.Detect(_ => null));
        Assert.Equal(MpiAbi.OpenMpi, Mpi.Detect(name => name == "OMPI_COMM_WORLD_SIZE" ? "2" : null));
        Assert.Equal(MpiAbi.Mpich, Mpi.Detect(name => name is "PMI_RANK" or "PMI_SIZE" ? "1" : null));
        Assert.Equal(3, Launch.LocalRank(new FakeRanks(7, 8), name => name == "MPI_LOCALRANKID" ? "3" : null));
        Assert.Equal(1, Launch.LocalRank(new FakeRanks(5, 8), name => name == "OMPI_COMM_WORLD_LOCAL_RANK" ? "1" : null));
        Assert.Equal(7, Launch.LocalRank(new FakeRanks(7, 8), _ => null));
    }

    [Theory]
    [InlineData(0, 4, 0)]
    [InlineData(5, 4, 1)]
    [InlineData(3, 1, 0)]
    [InlineData(3, 0, 0)]
    public void EachRankTakesTheGpuOfItsLocalRankModTheCount(int localRank, int gpus, int expected) =>
        Assert.Equal(expected, Launch.DeviceIndex(localRank, gpus));

    [Fact]
    public void AShardsPlanTakesLambdaFromTheWholeSetAndTheBatchFromTheLargestShard()
    {
        // 1001 rows on 2 ranks: this rank holds 500, the largest shard 501.
        var options = new TrainOptions { Optimizer = "adam", BatchSize = 64 };
        TrainPlan plan = TrainPlan.Resolve(options, 1L << 30, 500, 8, 3, 0, totalRows: 1001, mostRows: 501);
        Assert.Equal(1.0 / 1001, plan.WeightDecay, 12);
        Assert.Equal(Optimizers.MiniBatchEpochs(501, 64), plan.Epochs);
        TrainPlan full = TrainPlan.Resolve(options with { BatchSize = 0 }, 1L << 30, 500, 8, 3, 0, totalRows: 1001, mostRows: 501);
        Assert.Equal(501, full.BatchRows); // every rank takes the full-batch path alike
    }

    [Fact]
    public void RanksThatDisagreeAreToldSo()
    {
        Consensus.Require(new FakeRanks(0, 2, (5, 5)), "x", () => "same");
        var error = Assert.Throws<ArgumentException>(() => Consensus.Require(new FakeRanks(0, 2, (1, 9)), "the options", () => "mine"));
        Assert.Contains("the 2 ranks disagree on the options", error.Message);
    }

    /// <summary>A rank of a job that is not there: sums unchanged, (min, max) as given.</summary>
    private sealed class FakeRanks(int rank, int size, (long Min, long Max)? range = null) : ICommunicator
    {
        public int Rank => rank;
        public int Size => size;

        public void Sum(Span<double> values)
        {
        }

        public (long Min, long Max) MinMax(long value) => range ?? (value, value);

        public void Abort(int exitCode) => throw new InvalidOperationException($"aborted with {exitCode}");
    }
}
