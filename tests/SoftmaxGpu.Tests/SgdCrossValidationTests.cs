using SoftmaxGpu.Devices;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// Choosing C on a dense .sgd file read in blocks is choosing it on the CSV the file was converted from: the same folds
/// (dealt from the file's labels), the same chosen C, each fold's J at each C within 1e-6 and the same held-out scores;
/// with the rows resident, or streamed through the device in blocks under a small --device-memory, and with class
/// weights, smoothing and sample weights renormalized over each fold as in memory.
/// </summary>
public abstract class SgdCrossValidationTests(AcceleratorFixture fixture) : IDisposable
{
    private static readonly double[] Grid = [0.01, 0.1, 1, 10];
    private readonly string folder = Directory.CreateTempSubdirectory("softmaxgpu-cv-sgd-").FullName;

    /// <summary>Rows the path's folds hold (kind), and whether they stream through the device in blocks.</summary>
    public static TheoryData<string, bool> Runs => new()
    {
        { "labels", false },
        { "labels", true },
        { "class weights and smoothing", true },
        { "sample weights", true },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public void ByFoldsThePathOnADenseSgdFileIsThePathOnItsCsv(string kind, bool inBlocks)
    {
        Gpu gpu = fixture.Gpu();
        (string csv, TrainOptions options) = kind switch
        {
            "labels" => (Check.IrisPath, new TrainOptions()),
            "class weights and smoothing" => (Check.IrisPath, new TrainOptions { ClassWeight = "balanced", LabelSmoothing = 0.1f }),
            _ => (TargetData.Write(folder).Weighted, new TrainOptions { WeightColumn = "w" }),
        };
        // 2 KiB holds fewer than the 100 rows of a fold: every fold's session streams its rows, as the refit does.
        options = options with { Seed = 5, DeviceMemory = inBlocks ? 2048 : null };
        string sgd = Convert(csv, options);
        PathResult fromCsv = PathOf(gpu, csv, options, validation: null);
        PathResult fromFile = PathOf(gpu, sgd, options, validation: null);
        SamePath(fromCsv, fromFile, $"{kind}{(inBlocks ? ", in blocks" : "")}");
        Assert.Equal(inBlocks, fromFile.Refit.Plan.Streamed);
    }

    [Fact]
    public void OnValidationRowsThePathOnADenseSgdFileIsThePathOnItsCsv()
    {
        Gpu gpu = fixture.Gpu();
        var options = new TrainOptions { DeviceMemory = 2048 };
        string sgd = Convert(Check.IrisPath, options);
        SamePath(PathOf(gpu, Check.IrisPath, options, Check.IrisPath), PathOf(gpu, sgd, options, Check.IrisPath), "--val");
    }

    /// <summary>The same chosen C, every fold's J at every C within 1e-6 relative, the same held-out scores, the refit's J.</summary>
    private static void SamePath(PathResult expected, PathResult got, string what)
    {
        Assert.Equal(expected.Chosen, got.Chosen);
        Assert.Equal(expected.Points.Select(p => p.Value), got.Points.Select(p => p.Value));
        foreach ((PathPoint csv, PathPoint file) in expected.Points.Zip(got.Points))
        {
            Check.Close(csv.Objectives, file.Objectives, 0, 1e-6, $"{what}: each fold's J at C = {csv.Value}, CSV vs .sgd");
            Check.Close(csv.Scores, file.Scores, 1e-12, 0, $"{what}: each fold's held-out accuracy at C = {csv.Value}, CSV vs .sgd");
        }
        Check.Close(expected.Refit.Objective!.Value, got.Refit.Objective!.Value, 0, 1e-6, $"{what}: the refit's J, CSV vs .sgd");
    }

    /// <summary>The CSV converted as training would read it with <paramref name="options"/> (its weight column kept), in blocks of 16 rows.</summary>
    private string Convert(string csv, TrainOptions options)
    {
        string sgd = Path.Combine(folder, "rows.sgd");
        new TrainingSpec { Data = csv, Options = options }.Convert(sgd, blockRows: 16);
        return sgd;
    }

    /// <summary>The path over <see cref="Grid"/> that train takes on <paramref name="data"/>: 3 folds, or the validation rows.</summary>
    private static PathResult PathOf(Gpu gpu, string data, TrainOptions options, string? validation)
    {
        var spec = new TrainingSpec { Data = data, Options = options, Cs = Grid, Folds = validation is null ? 3 : null, Validation = validation };
        using PreparedTraining prepared = spec.Prepare();
        prepared.Train(gpu);
        return prepared.Path!;
    }

    public void Dispose()
    {
        Directory.Delete(folder, recursive: true);
        GC.SuppressFinalize(this);
    }
}

public sealed class HostSgdCrossValidationTests(HostFixture fixture) : SgdCrossValidationTests(fixture), IClassFixture<HostFixture>;

public sealed class CpuSgdCrossValidationTests(CpuFixture fixture) : SgdCrossValidationTests(fixture), IClassFixture<CpuFixture>;

public sealed class CudaSgdCrossValidationTests(CudaFixture fixture) : SgdCrossValidationTests(fixture), IClassFixture<CudaFixture>;

public sealed class OpenCLSgdCrossValidationTests(OpenCLFixture fixture) : SgdCrossValidationTests(fixture), IClassFixture<OpenCLFixture>;

/// <summary>A subset of a source's rows reads the rows an in-memory gather of the same indices gives, at any start and length.</summary>
public sealed class RowSubsetTests
{
    [Theory]
    [InlineData(0, 23)]  // every row of the subset in one read
    [InlineData(5, 7)]   // a window from the middle
    [InlineData(22, 1)]  // the last row alone
    public void ARangeOfTheSubsetIsTheGatherOfItsRows(int start, int count)
    {
        const int n = 61, d = 5, k = 3;
        var random = new Random(39);
        var set = new EncodedSet([.. Enumerable.Range(0, n * d).Select(_ => (float)random.NextDouble())],
            [.. Enumerable.Range(0, n).Select(_ => random.Next(k))], [.. Enumerable.Range(0, n * k).Select(_ => (float)random.NextDouble())], n, d);
        // 23 rows in short runs and long gaps, so a window stops short of the last row and the next read starts afresh.
        int[] rows = [.. Enumerable.Range(0, n).Where(_ => random.NextDouble() < 0.5).Take(23)];
        Assert.Equal(23, rows.Length);
        var subset = new RowSubset(new Unsized(set), rows);

        (float[] features, int[] labels, float[] targets) = (new float[count * d], new int[count], new float[count * k]);
        subset.Read(start, count, new RowBlock(features, labels, targets));
        (float[] expectedFeatures, int[] expectedLabels, float[] expectedTargets) = (new float[count * d], new int[count], new float[count * k]);
        set.Gather(rows.AsSpan(start, count), new RowBlock(expectedFeatures, expectedLabels, expectedTargets));
        Assert.Equal(expectedFeatures, features);
        Assert.Equal(expectedLabels, labels);
        Assert.Equal(expectedTargets, targets);
    }

    [Fact]
    public void RowsOutOfOrderOrOutsideTheSourceAreAnError()
    {
        var set = new EncodedSet(new float[10], new int[5], null, 5, 2);
        Assert.Throws<ArgumentException>(() => new RowSubset(set, [0, 3, 3]));
        Assert.Throws<ArgumentException>(() => new RowSubset(set, [1, 5]));
    }

    /// <summary>A source read only by range, with a check that no read runs past the block it is given.</summary>
    private sealed class Unsized(EncodedSet set) : IRowSource
    {
        public long Rows => set.Rows;
        public int Dim => set.Dim;
        public int TargetWidth => set.TargetWidth;

        public void Read(long start, int count, RowBlock block)
        {
            Assert.Equal(count * Dim, block.Features.Length);
            set.Read(start, count, block);
        }
    }
}
