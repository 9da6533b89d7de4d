using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>A path over C with K-fold cross-validation: each fold's fit at each C is that fold's single fit; the grid is checked.</summary>
public abstract class CrossValidationTests(AcceleratorFixture fixture)
{
    [Fact]
    public void EachFoldAtEachCReachesTheSingleFitOnTheSameRows()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = TrainingTests.Iris();
        double[] cs = [10, 0.01, 1, 0.1]; // given unordered: the path runs 0.01 → 10
        var options = new TrainOptions { Seed = 5 };
        PathResult path = CrossValidation.Run(gpu, iris, k, cs, folds: 3, PathScore.Accuracy, options);
        Assert.Equal([0.01, 0.1, 1, 10], path.Points.Select(p => p.Value));

        // Fold 1's training rows fitted alone from zeros at each C: the path's warm-started fit reaches the same J.
        int[] fold = Split.StratifiedFolds(iris.Labels, 3, options.Seed);
        int[] train = [.. Enumerable.Range(0, iris.Rows).Where(r => fold[r] != 1)], held = [.. Enumerable.Range(0, iris.Rows).Where(r => fold[r] == 1)];
        foreach (PathPoint point in path.Points)
        {
            TrainResult single = Trainer.Train(gpu, Subset(iris, train), Subset(iris, held), k, options with { C = point.Value });
            Check.Close(single.Objective!.Value, point.Objectives[1], 0, 1e-6, $"fold 1's J at C = {point.Value}, warm vs single fit");
            Assert.Equal(single.History[^1].ValAccuracy!.Value, point.Scores[1], 1e-9);
        }
        // That the fits start from the last C's model is SessionTests' (each starts nearer its optimum than from zeros):
        // on iris's 15 parameters a warm start saves no iterations (at C = 10: 40/38/35 against 37 from zeros; every
        // L-BFGS fit takes m + 3 = 13 iterations before its stall rule may stop it, and learns its diagonal H₀ anew).

        Assert.Equal(path.Points.MaxBy(p => p.Mean)!.Value, path.Chosen);
        Assert.True(path.Refit.Converged);
        Assert.Equal(1 / (path.Chosen * iris.Rows), path.Refit.Plan.WeightDecay, 1e-12);
        Assert.True(path.Points.Single(p => p.Value == path.Chosen).Mean > 0.9);
    }


    /// <summary>
    /// A path over weight decays (--weight-decay values): walked from the largest λ down, each fold's fit at each λ the
    /// single fit at --weight-decay λ on its rows (the same λ on every fold, not 1/(C·N_fold)), the refit that single fit
    /// on every row; on the host engine with the folds in sessions, stacked and side by side alike.
    /// </summary>
    [Fact]
    public void EachFoldAtEachWeightDecayReachesTheSingleFitOnTheSameRows()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = TrainingTests.Iris();
        double[] decays = [1e-3, 0.1, 1e-2]; // given unordered: the path runs 0.1 → 1e-3, the strongest penalty first
        var options = new TrainOptions { Seed = 5, PathPenalty = PathPenalty.WeightDecay, Optimizer = "lbfgs" };
        FoldPasses?[] modes = gpu.Host ? [FoldPasses.Sessions, FoldPasses.Stacked, FoldPasses.SideBySide] : [null];
        int[] fold = Split.StratifiedFolds(iris.Labels, 3, options.Seed);
        foreach (FoldPasses? passes in modes)
        {
            PathResult path = CrossValidation.Run(gpu, iris, k, decays, folds: 3, PathScore.LogLoss, options, passes: passes);
            Assert.Equal([0.1, 1e-2, 1e-3], path.Points.Select(p => p.Value));
            Assert.Equal(PathPenalty.WeightDecay, path.Penalty);
            for (int f = 0; f < 3; f++)
            {
                int[] train = [.. Enumerable.Range(0, iris.Rows).Where(r => fold[r] != f)], held = [.. Enumerable.Range(0, iris.Rows).Where(r => fold[r] == f)];
                foreach (PathPoint point in path.Points)
                {
                    TrainResult single = Trainer.Train(gpu, Subset(iris, train), Subset(iris, held), k,
                        options with { WeightDecay = (float)point.Value });
                    Assert.Equal((float)point.Value, single.Plan.WeightDecay, 0); // λ as given, whatever the fold's rows
                    Check.Close(single.Objective!.Value, point.Objectives[f], 0, 1e-6, $"{passes}: fold {f}'s J at λ = {point.Value}, warm vs single fit");
                }
            }
            Assert.Equal(path.Points.MinBy(p => p.Mean)!.Value, path.Chosen);
            Assert.Equal((float)path.Chosen, path.Refit.Plan.WeightDecay, 0); // the refit: every row at the chosen λ
            Assert.Equal("weight-decay", path.Selection(3).Parameter);
        }
    }

    [Fact]
    public void OnAValidationSetTheChosenCIsRefitAsTheSingleFitAtIt()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = TrainingTests.Iris();
        (int[] train, int[] held) = Split.Stratified(iris.Labels, 0.3, seed: 2);
        var options = new TrainOptions();
        PathResult path = CrossValidation.RunOnValidation(gpu, Subset(iris, train), Subset(iris, held), k, [0.01, 1, 100],
            PathScore.LogLoss, options);
        Assert.All(path.Points, p => Assert.Single(p.Scores));
        Assert.Equal(path.Points.MinBy(p => p.Mean)!.Value, path.Chosen);
        TrainResult single = Trainer.Train(gpu, Subset(iris, train), Subset(iris, held), k, options with { C = path.Chosen });
        Assert.Equal(single.Theta, path.Refit.Theta); // fitted from zeros in the path's session: the same bits
        // The path's warm-started fit at that C is another point within the optimum's tolerance (J within 1e-6; the
        // held-out loss of a weakly penalized fit moves more): its score is close, not equal.
        Check.Close(single.History[^1].ValLoss!.Value, path.Points.Single(p => p.Value == path.Chosen).Scores[0], 0, 1e-3,
            "held-out log-loss at the chosen C, path vs single fit");
    }

    /// <summary>The target kinds a fold fits as a single fit on its rows would: the set prepared as a single fit prepares its rows.</summary>
    public static TheoryData<string> TargetKinds => new() { "class and sample weights", "label smoothing", "probabilities and sample weights" };

    [Theory]
    [MemberData(nameof(TargetKinds))]
    public void WithTargetRowsEachFoldAtEachCReachesTheSingleFitOnTheSameRows(string kind)
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = TrainingTests.Iris();
        var random = new Random(17);
        float[] sampleWeights = [.. Enumerable.Range(0, iris.Rows).Select(_ => (float)(0.2 + 1.8 * random.NextDouble()))];
        // Probability rows peaked at each row's label (so the label stays the largest target, as --target-columns makes it).
        float[] soft = [.. Enumerable.Range(0, iris.Rows * k).Select(i => (float)(i % k == iris.Labels[i / k] ? 0.8 : 0.1))];
        var options = new TrainOptions { Seed = 5 };
        // The rows and options of a single fit on exactly these rows, as Pipeline.Train prepares them: class weights
        // given as numbers (balanced ones are computed once on every row, which the fold then keeps).
        (EncodedSet Set, TrainOptions Options) Single(int[] rows) => kind switch
        {
            "class and sample weights" => Weighted(Subset(iris, rows), [1, 3, 0.5], [.. rows.Select(r => sampleWeights[r])]),
            "label smoothing" => (Pipeline.Smoothed(Subset(iris, rows), k, 0.1f), options),
            _ => Weighted(Subset(iris, rows) with { Targets = [.. rows.SelectMany(r => soft.Skip(r * k).Take(k))] }, null,
                [.. rows.Select(r => sampleWeights[r])]),
        };
        (EncodedSet Set, TrainOptions Options) Weighted(EncodedSet set, double[]? classWeights, float[] weights)
        {
            (EncodedSet weighted, double sum) = Weighting.Weighted(set, k, classWeights, weights);
            return (weighted, options with { WeightSum = sum });
        }

        (EncodedSet all, TrainOptions pathOptions) = Single([.. Enumerable.Range(0, iris.Rows)]);
        PathResult path = CrossValidation.Run(gpu, all, k, [0.01, 0.1, 1, 10], folds: 3, PathScore.Accuracy, pathOptions);
        int[] fold = Split.StratifiedFolds(iris.Labels, 3, options.Seed);
        int[] train = [.. Enumerable.Range(0, iris.Rows).Where(r => fold[r] != 2)], held = [.. Enumerable.Range(0, iris.Rows).Where(r => fold[r] == 2)];
        (EncodedSet foldRows, TrainOptions foldOptions) = Single(train);
        foreach (PathPoint point in path.Points)
        {
            // Held out as --val rows are: against the label, unweighted.
            TrainResult single = Trainer.Train(gpu, foldRows, Subset(iris, held), k, foldOptions with { C = point.Value });
            Check.Close(single.Objective!.Value, point.Objectives[2], 0, 1e-6, $"{kind}: fold 2's J at C = {point.Value}, warm vs single fit");
            Assert.Equal(single.History[^1].ValAccuracy!.Value, point.Scores[2], 1e-9);
        }
        // The refit: every row, with the whole set's Σw where weighted.
        Assert.Equal(1 / (path.Chosen * (pathOptions.WeightSum ?? iris.Rows)), path.Refit.Plan.WeightDecay, 1e-12);
        Assert.True(path.Refit.Converged);
    }

    [Fact]
    public void MultiLabelFoldsAreUnstratifiedAndEachFoldAtEachCReachesTheSingleFit()
    {
        Gpu gpu = fixture.Gpu();
        const int n = 97, d = 4, k = 3;
        var random = new Random(23);
        float[] x = [.. Enumerable.Range(0, n * d).Select(_ => (float)(random.NextDouble() * 4 - 2))];
        // Tags of a noisy linear teacher: tag c where x_c + x_{c+1} + noise > 0.
        float[] tags = [.. Enumerable.Range(0, n * k).Select(i => x[i / k * d + i % k] + x[i / k * d + i % k + 1] + random.NextDouble() - 0.5 > 0 ? 1f : 0f)];
        var set = new EncodedSet(x, new int[n], tags, n, d);
        var options = new TrainOptions { Seed = 3, Loss = SigmoidCrossEntropy.Instance };
        PathResult path = CrossValidation.Run(gpu, set, k, [0.01, 1, 100], folds: 3, PathScore.Accuracy, options);

        int[] fold = Split.Folds(n, 3, options.Seed);
        Assert.Equal([32, 32, 33], fold.CountBy(f => f).Select(p => p.Value).Order()); // dealt in turn, whatever the tags
        int[] train = [.. Enumerable.Range(0, n).Where(r => fold[r] != 0)], held = [.. Enumerable.Range(0, n).Where(r => fold[r] == 0)];
        foreach (PathPoint point in path.Points)
        {
            TrainResult single = Trainer.Train(gpu, Subset(set, train), Subset(set, held), k, options with { C = point.Value });
            Check.Close(single.Objective!.Value, point.Objectives[0], 0, 1e-6, $"multi-label fold 0's J at C = {point.Value}, warm vs single fit");
            Assert.Equal(single.History[^1].ValAccuracy!.Value, point.Scores[0], 1e-9); // subset accuracy of the held-out tags
        }
        Assert.Equal(1 / (path.Chosen * n), path.Refit.Plan.WeightDecay, 1e-12);
        Assert.True(path.Points.Single(p => p.Value == path.Chosen).Mean > 0.5, "the tags are learnable: most rows right at the chosen C");
    }

    /// <summary>The rows of <paramref name="set"/> named by <paramref name="rows"/>, in order, with their target rows where it has them.</summary>
    private static EncodedSet Subset(EncodedSet set, int[] rows) =>
        new([.. rows.SelectMany(r => set.Features.Skip(r * set.Dim).Take(set.Dim))], [.. rows.Select(r => set.Labels[r])],
            set.Targets is float[] targets ? [.. rows.SelectMany(r => targets.Skip(r * set.TargetWidth).Take(set.TargetWidth))] : null,
            rows.Length, set.Dim);
}

public sealed class CpuCrossValidationTests(CpuFixture fixture) : CrossValidationTests(fixture), IClassFixture<CpuFixture>;

public sealed class HostCrossValidationTests(HostFixture fixture) : CrossValidationTests(fixture), IClassFixture<HostFixture>;

public sealed class CudaCrossValidationTests(CudaFixture fixture) : CrossValidationTests(fixture), IClassFixture<CudaFixture>;

public sealed class OpenCLCrossValidationTests(OpenCLFixture fixture) : CrossValidationTests(fixture), IClassFixture<OpenCLFixture>;

/// <summary>A bad grid or fold count is one clear error before any fit (the host engine is opened, never used).</summary>
public sealed class CrossValidationGridTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    [Theory]
    [InlineData(new double[0], 3, "--C needs at least one value")]
    [InlineData(new[] { 1.0, 0.0 }, 3, "--C values must be finite and > 0, got 0")]
    [InlineData(new[] { 1.0, double.NaN }, 3, "--C values must be finite and > 0, got NaN")]
    [InlineData(new[] { 1.0, 1.0 }, 3, "--C names a value twice")]
    [InlineData(new[] { 1.0 }, 51, "class 0 has 50 rows, fewer than the folds")]
    [InlineData(new[] { 1.0 }, 1, "--cv must be at least 2 folds")]
    public void ABadGridIsOneClearError(double[] cs, int folds, string expected)
    {
        (EncodedSet iris, int k) = TrainingTests.Iris();
        var error = Assert.Throws<ArgumentException>(() =>
            CrossValidation.Run(fixture.Gpu(), iris, k, cs, folds, PathScore.Accuracy, new TrainOptions()));
        Assert.Contains(expected, error.Message);
    }
}
