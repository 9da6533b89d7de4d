using SoftmaxGpu.Devices;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// The batch contract's target rows stream like features: label smoothing, probability targets, weights (target
/// mass) and multi-label tag sets train to the same L-BFGS optimum resident, streamed from memory in blocks of a
/// few rows, read in ranges as a file is, and kept in a .sgd file (target rows and weights, version 3) resident and
/// streamed from it.
/// </summary>
public abstract class StreamedTargetsTests(AcceleratorFixture fixture)
{
    private const int BlockRows = 17; // iris's 150 rows in 9 blocks, the last of 14

    /// <summary>J streamed in blocks of <see cref="BlockRows"/> rows equals J resident within 1e-6 relative.</summary>
    private void StreamsToTheResidentOptimum(IRowSource streamed, EncodedSet resident, int k, TrainOptions options, string what)
    {
        Gpu gpu = fixture.Gpu();
        options = options with { Optimizer = "lbfgs" };
        TrainResult whole = Trainer.Train(gpu, resident, null, k, options);
        TrainResult blocks = Trainer.Train(gpu, streamed, null, k, options with { StreamBlockRows = BlockRows });
        Assert.False(whole.Plan.Streamed);
        Assert.True(blocks.Plan.Streamed, $"{what}: not streamed");
        Assert.True(whole.Converged, $"{what}: {whole.StopReason}");
        Check.Close(whole.Objective!.Value, blocks.Objective!.Value, 0, 1e-6, $"J of {what}, streamed vs resident");
    }

    [Fact]
    public void LabelSmoothingAndClassWeightsStreamFromMemoryAndFromRowsReadInRanges()
    {
        (EncodedSet iris, int k) = TrainingTests.Iris();
        string[] classes = ["setosa", "versicolor", "virginica"];
        var options = new TrainOptions { LabelSmoothing = 0.1f, ClassWeight = "setosa=3,virginica=0.5" };
        // Resident and in memory as train writes them: per-row targets (Smoothed, then Weighting.Apply).
        (EncodedSet weighted, TrainOptions withSum) = Weighting.Apply(Pipeline.Smoothed(iris, k, 0.1f), classes, options, null);
        Assert.Equal(k, weighted.TargetWidth);
        StreamsToTheResidentOptimum(weighted, weighted, k, withSum, "smoothed, class-weighted targets in memory");
        // Rows that carry labels alone (a .sgd file): the targets come from the class as the blocks are read.
        (IRowSource byLabel, TrainOptions fromFile) = Weighting.ByLabel(new TrainingTests.BlocksOnly(iris), classes, options);
        Assert.IsNotAssignableFrom<IRowGather>(byLabel);
        Check.Close(withSum.WeightSum!.Value, fromFile.WeightSum!.Value, 0, 1e-12, "Σw from the labels' pass");
        StreamsToTheResidentOptimum(byLabel, weighted, k, fromFile, "smoothed, class-weighted targets from the labels");
    }

    [Fact]
    public void ProbabilityTargetsWithSampleWeightsStream()
    {
        (EncodedSet iris, int k) = TrainingTests.Iris();
        var random = new Random(11);
        var targets = new float[iris.Rows * k];
        for (int r = 0; r < iris.Rows; r++)
        {
            // Mostly the true class, the rest spread at random: rows that sum to 1.
            double[] row = Enumerable.Range(0, k).Select(c => (c == iris.Labels[r] ? 4.0 : 0) + random.NextDouble()).ToArray();
            for (int c = 0; c < k; c++)
                targets[r * k + c] = (float)(row[c] / row.Sum());
        }
        float[] sampleWeights = Enumerable.Range(0, iris.Rows).Select(_ => (float)random.Next(4)).ToArray();
        var options = new TrainOptions { WeightColumn = "w" };
        (EncodedSet weighted, TrainOptions withSum) = Weighting.Apply(iris with { Targets = targets }, ["a", "b", "c"], options, sampleWeights);
        Assert.Contains(0f, sampleWeights); // rows of weight 0 stream as all-zero targets
        StreamsToTheResidentOptimum(weighted, weighted, k, withSum, "weighted probability targets");
        StreamsToTheResidentOptimum(new TrainingTests.BlocksOnly(weighted), weighted, k, withSum,
            "weighted probability targets read in ranges");
    }

    [Fact]
    public void MultiLabelTagSetsStream()
    {
        (EncodedSet iris, _) = TrainingTests.Iris();
        const int tags = 4;
        // Tag t of a row is on where a noisy linear score of its features is positive: learnable, not separable.
        var random = new Random(3);
        var targets = new float[iris.Rows * tags];
        for (int r = 0; r < iris.Rows; r++)
            for (int t = 0; t < tags; t++)
                targets[r * tags + t] = iris.Features[r * iris.Dim + t % iris.Dim] * (t < 2 ? 1 : -1) + random.NextDouble() - 0.5 > 0 ? 1 : 0;
        var tagged = new EncodedSet(iris.Features, new int[iris.Rows], targets, iris.Rows, iris.Dim);
        var options = new TrainOptions { Loss = SigmoidCrossEntropy.Instance };
        StreamsToTheResidentOptimum(tagged, tagged, tags, options, "multi-label tag sets");
        StreamsToTheResidentOptimum(new TrainingTests.BlocksOnly(tagged), tagged, tags, options, "multi-label tag sets read in ranges");
    }

    /// <summary>
    /// Probability targets, weights and tag sets kept in a .sgd file (convert, through <see cref="TrainingSpec.Convert"/>)
    /// train from it — resident, and streamed in blocks of <see cref="BlockRows"/> rows read from the file — to the
    /// L-BFGS objective of training on the CSV in memory, within 1e-6 relative.
    /// </summary>
    [Theory]
    [InlineData("soft", "target-columns")]                            // probability rows as they are
    [InlineData("soft", "target-columns|weight-column|smoothing|class-weight")] // smoothed, weighted by class and by row
    [InlineData("weighted", "weight-column|class-weight")]            // labels and weights
    [InlineData("tags", "multi-label|tag-columns")]                   // 0/1 tag columns
    [InlineData("tags", "multi-label|tags-column")]                   // a '|'-separated tags column (convert reads it twice)
    public void TargetsAndWeightsKeptInASgdFileTrainToTheCsvOptimum(string data, string given)
    {
        string folder = Directory.CreateTempSubdirectory("softmaxgpu-sgd-targets-").FullName;
        try
        {
            (string soft, string weighted) = TargetData.Write(folder);
            string csv = data switch { "soft" => soft, "weighted" => weighted, _ => TargetData.Tagged(folder) };
            string[] options = given.Split('|');
            var spec = new TrainingSpec
            {
                Data = csv,
                MultiLabel = options.Contains("multi-label"),
                Label = options.Contains("tag-columns") ? TargetData.TagColumns : options.Contains("tags-column") ? "tags" : null,
                Csv = new Data.CsvOptions { Ignore = options.Contains("tag-columns") ? ["tags"] : options.Contains("tags-column") ? TargetData.TagColumns.Split(',') : [] },
                Options = new TrainOptions
                {
                    Optimizer = "lbfgs",
                    TargetColumns = options.Contains("target-columns") ? TargetData.Probabilities.Split(',') : null,
                    WeightColumn = options.Contains("weight-column") ? "w" : null,
                    LabelSmoothing = options.Contains("smoothing") ? 0.1f : 0,
                    ClassWeight = options.Contains("class-weight") ? "balanced" : null,
                },
            };
            string sgd = Path.Combine(folder, "data.sgd");
            spec.Convert(sgd, blockRows: 16);
            TrainResult Train(TrainingSpec s)
            {
                using PreparedTraining prepared = s.Prepare();
                return prepared.Train(fixture.Gpu()).Result;
            }
            TrainResult fromCsv = Train(spec);
            var fromFile = spec with { Data = sgd, Csv = new Data.CsvOptions() };
            TrainResult resident = Train(fromFile);
            TrainResult streamed = Train(fromFile with { Options = fromFile.Options with { StreamBlockRows = BlockRows } });
            Assert.True(fromCsv.Converged, $"{given}: {fromCsv.StopReason}");
            Assert.False(resident.Plan.Streamed);
            Assert.True(streamed.Plan.Streamed, $"{given}: not streamed");
            Check.Close(fromCsv.Objective!.Value, resident.Objective!.Value, 0, 1e-6, $"J of {given} from the .sgd file, resident");
            Check.Close(fromCsv.Objective!.Value, streamed.Objective!.Value, 0, 1e-6, $"J of {given} from the .sgd file, streamed");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}

public sealed class CpuStreamedTargetsTests(CpuFixture fixture) : StreamedTargetsTests(fixture), IClassFixture<CpuFixture>;

public sealed class HostStreamedTargetsTests(HostFixture fixture) : StreamedTargetsTests(fixture), IClassFixture<HostFixture>;

public sealed class CudaStreamedTargetsTests(CudaFixture fixture) : StreamedTargetsTests(fixture), IClassFixture<CudaFixture>;

public sealed class OpenCLStreamedTargetsTests(OpenCLFixture fixture) : StreamedTargetsTests(fixture), IClassFixture<OpenCLFixture>;

/// <summary>The memory plan counts target rows (no device).</summary>
public sealed class TargetMemoryPlanTests
{
    [Fact]
    public void TheMemoryPlanCountsTargetRows()
    {
        long withoutTargets = TrainPlan.FullBatchBytes(1000, 20, 7, 100);
        long withTargets = TrainPlan.FullBatchBytes(1000, 20, 7, 100, targetWidth: 7);
        Assert.Equal(4L * 7 * (1000 + 100), withTargets - withoutTargets);
        // A budget that holds the labelled set but not its target rows streams instead of failing on the device.
        Assert.Equal(1000, TrainPlan.BlockRowsFor(withoutTargets, 1000, 20, 7, 100, 1000));
        Assert.True(TrainPlan.BlockRowsFor(withoutTargets, 1000, 20, 7, 100, 1000, targetWidth: 7) < 1000);
    }
}
