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
        Assert.Equal([0.01, 0.1, 1, 10], path.Points.Select(p => p.C));

        // Fold 1's training rows fitted alone from zeros at each C: the path's warm-started fit reaches the same J.
        int[] fold = Split.StratifiedFolds(iris.Labels, 3, options.Seed);
        int[] train = [.. Enumerable.Range(0, iris.Rows).Where(r => fold[r] != 1)], held = [.. Enumerable.Range(0, iris.Rows).Where(r => fold[r] == 1)];
        foreach (PathPoint point in path.Points)
        {
            TrainResult single = Trainer.Train(gpu, Subset(iris, train), Subset(iris, held), k, options with { Optimizer = "lbfgs", C = point.C });
            Check.Close(single.Objective!.Value, point.Objectives[1], 0, 1e-6, $"fold 1's J at C = {point.C}, warm vs single fit");
            Assert.Equal(single.History[^1].ValAccuracy!.Value, point.Scores[1], 1e-9);
        }
        // Warm starts: the path's later points take fewer iterations than single fits from zeros would.
        Assert.True(path.Points[^1].Iterations.Sum() < Trainer.Train(gpu, Subset(iris, train), null, k,
            options with { Optimizer = "lbfgs", C = 10 }).History.Count * 3, "warm starts did not save iterations at C = 10");

        Assert.Equal(path.Points.MaxBy(p => p.Mean)!.C, path.ChosenC);
        Assert.True(path.Refit.Converged);
        Assert.Equal(1 / (path.ChosenC * iris.Rows), path.Refit.Plan.WeightDecay, 1e-12);
        Assert.True(path.Points.Single(p => p.C == path.ChosenC).Mean > 0.9);
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
        Assert.Equal(path.Points.MinBy(p => p.Mean)!.C, path.ChosenC);
        TrainResult single = Trainer.Train(gpu, Subset(iris, train), Subset(iris, held), k, options with { Optimizer = "lbfgs", C = path.ChosenC });
        Assert.Equal(single.Theta, path.Refit.Theta); // fitted from zeros in the path's session: the same bits
        // The path's warm-started fit at that C is another point within the optimum's tolerance (J within 1e-6; the
        // held-out loss of a weakly penalized fit moves more): its score is close, not equal.
        Check.Close(single.History[^1].ValLoss!.Value, path.Points.Single(p => p.C == path.ChosenC).Scores[0], 0, 1e-3,
            "held-out log-loss at the chosen C, path vs single fit");
    }

    private static EncodedSet Subset(EncodedSet set, int[] rows) =>
        new([.. rows.SelectMany(r => set.Features.Skip(r * set.Dim).Take(set.Dim))], [.. rows.Select(r => set.Labels[r])], null,
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
