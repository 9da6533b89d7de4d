using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Model;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// A path over C on sparse rows (<see cref="SparseCrossValidation"/>): each fold's warm-started fit at each C is that
/// fold's single fit from zeros, the chosen C is refit, and on a validation set the refit is the single fit. Seeded,
/// tiny sets: ILGPU's CPU accelerator runs the device's sparse kernels. Subclasses bind the tests to one engine each.
/// </summary>
public abstract class SparseCrossValidationTests(AcceleratorFixture fixture)
{
    /// <summary>61 rows × 29 features × 3 classes whose class shifts its own band of features; centred on μ.</summary>
    private static (SparseSet Set, int K, double[] Centre) Problem()
    {
        const int k = 3;
        SparseSet set = DeviceSparseObjectiveTests.Separable(new Random(17), rows: 61, d: 29, k);
        var centre = new double[set.Dim];
        for (long e = 0; e < set.X.NonZeros; e++)
            centre[set.X.Columns[e]] += set.X.Values[e] / (double)set.Rows;
        return (set, k, centre);
    }

    /// <summary>
    /// A path on sparse rows against the same path on the rows made dense: every fold's J at every value within 1e-6,
    /// its held-out log-loss within <paramref name="scoreRtol"/> (θ near the optimum: J to 1e-6, θ to about its root),
    /// the same choice and the refit's J within 1e-6.
    /// </summary>
    internal static void SamePath(PathResult dense, PathResult sparse, double scoreRtol)
    {
        for (int i = 0; i < dense.Points.Count; i++)
        {
            double c = dense.Points[i].Value;
            Check.Close(dense.Points[i].Objectives, sparse.Points[i].Objectives, 0, 1e-6, $"each fold's J at C = {c}");
            Check.Close(dense.Points[i].Scores, sparse.Points[i].Scores, 0, scoreRtol, $"each fold's held-out log-loss at C = {c}");
        }
        Assert.Equal(dense.Chosen, sparse.Chosen);
        Check.Close(dense.Refit.Objective!.Value, sparse.Refit.Objective!.Value, 0, 1e-6, "the refit's J");
    }

    private static SparseSet Subset(SparseSet set, int[] rows) => new(set.X.Select(rows), [.. rows.Select(r => set.Labels[r])]);

    [Fact]
    public void EachFoldAtEachCReachesTheSingleFitOnTheSameRows()
    {
        Gpu gpu = fixture.Gpu();
        (SparseSet set, int k, double[] centre) = Problem();
        double[] cs = [10, 0.01, 1, 0.1]; // given unordered: the path runs 0.01 → 10
        var options = new TrainOptions { Seed = 5 };
        PathResult path = SparseCrossValidation.Run(gpu, set, k, centre, cs, folds: 3, PathScore.Accuracy, options);
        Assert.Equal([0.01, 0.1, 1, 10], path.Points.Select(p => p.Value));

        // Each fold's training rows fitted alone from zeros at each C: the path's warm-started fit reaches the same J.
        int[] foldOf = Split.StratifiedFolds(set.Labels, 3, options.Seed);
        for (int fold = 0; fold < 3; fold++)
        {
            int[] train = [.. Enumerable.Range(0, set.Rows).Where(r => foldOf[r] != fold)];
            int[] held = [.. Enumerable.Range(0, set.Rows).Where(r => foldOf[r] == fold)];
            foreach (PathPoint point in path.Points)
            {
                TrainResult single = SparseTraining.Train(gpu, Subset(set, train), Subset(set, held), k, centre,
                    options with { Optimizer = "lbfgs", C = point.Value });
                Check.Close(single.Objective!.Value, point.Objectives[fold], 0, 1e-6, $"fold {fold}'s J at C = {point.Value}, warm vs single fit");
                Assert.Equal(single.History[^1].ValAccuracy!.Value, point.Scores[fold], 1e-9);
            }
        }
        Assert.Equal(path.Points.MaxBy(p => p.Mean)!.Value, path.Chosen);
        Assert.True(path.Refit.Converged, path.Refit.StopReason);
        Assert.Equal(1 / (path.Chosen * set.Rows), path.Refit.Plan.WeightDecay, 1e-12); // the refit: every row at the chosen C
        TrainResult refit = SparseTraining.Train(gpu, set, null, k, centre, options with { Optimizer = "lbfgs", C = path.Chosen });
        Assert.Equal(refit.Theta, path.Refit.Theta);
        Assert.True(path.Points.Single(p => p.Value == path.Chosen).Mean > 0.8);
    }

    /// <summary>
    /// Tag sets (the sigmoid head): the folds dealt by row, each fold's warm-started fit at each C the single fit on its
    /// rows, and each held-out fold scored by its tags as that fit scores them as validation rows.
    /// </summary>
    [Fact]
    public void TagSetsReachEachFoldsSingleFitScoredByTheirTags()
    {
        Gpu gpu = fixture.Gpu();
        (SparseSet set, int k, double[] centre) = Problem();
        float[] tags = SparseMultiLabelTests.RandomTags(new Random(8), set.Rows, k);
        for (int r = 0; r < set.Rows; r++)
            tags[r * k + set.Labels[r]] = 1; // each row's band: tags the features can tell
        var tagged = new SparseSet(set.X, new int[set.Rows]) { Targets = tags };
        var options = new TrainOptions { Seed = 6, Loss = SigmoidCrossEntropy.Instance };
        PathResult path = SparseCrossValidation.Run(gpu, tagged, k, centre, [0.1, 10], folds: 3, PathScore.LogLoss, options);

        int[] foldOf = Split.Folds(set.Rows, 3, options.Seed);
        for (int fold = 0; fold < 3; fold++)
        {
            int[] train = [.. Enumerable.Range(0, set.Rows).Where(r => foldOf[r] != fold)];
            int[] held = [.. Enumerable.Range(0, set.Rows).Where(r => foldOf[r] == fold)];
            foreach (PathPoint point in path.Points)
            {
                TrainResult single = SparseTraining.Train(gpu, tagged.Select(train), tagged.Select(held), k, centre,
                    options with { Optimizer = "lbfgs", C = point.Value });
                Check.Close(single.Objective!.Value, point.Objectives[fold], 0, 1e-6, $"fold {fold}'s J at C = {point.Value}, warm vs single fit");
                Check.Close(single.History[^1].ValLoss!.Value, point.Scores[fold], 0, 1e-4, $"fold {fold}'s held-out loss over its tags at C = {point.Value}");
            }
        }
        Assert.Equal(path.Points.MinBy(p => p.Mean)!.Value, path.Chosen);
        TrainResult refit = SparseTraining.Train(gpu, tagged, null, k, centre, options with { Optimizer = "lbfgs", C = path.Chosen });
        Assert.Equal(refit.Theta, path.Refit.Theta);
    }

    /// <summary>Tag sets scored without their tags: one clear error on every engine (a kernel reading the missing rows hung
    /// ILGPU's CPU accelerator).</summary>
    [Fact]
    public void TagSetsScoredWithoutTheirTagsAreOneClearError()
    {
        Gpu gpu = fixture.Gpu();
        (SparseSet set, int k, double[] centre) = Problem();
        var tagged = new SparseSet(set.X, new int[set.Rows]) { Targets = SparseMultiLabelTests.RandomTags(new Random(8), set.Rows, k) };
        var untagged = new SparseSet(set.X, new int[set.Rows]);
        var options = new TrainOptions { Loss = SigmoidCrossEntropy.Instance };
        using ISparseObjective objective = SparseTraining.Objective(gpu, tagged, null, k, centre, lambda: 0.1, options, tagged.Rows);
        var error = Assert.Throws<ArgumentException>(() => objective.Score(new double[objective.Parameters], untagged));
        Assert.Contains("need each row's tags", error.Message);
        Assert.Throws<ArgumentException>(() => SparseTraining.Objective(gpu, tagged, untagged, k, centre, 0.1, options, tagged.Rows));
    }

    [Fact]
    public void OnAValidationSetTheChosenCIsRefitAsTheSingleFitAtIt()
    {
        Gpu gpu = fixture.Gpu();
        (SparseSet set, int k, double[] centre) = Problem();
        (int[] train, int[] held) = Split.Stratified(set.Labels, 0.3, seed: 2);
        var options = new TrainOptions();
        PathResult path = SparseCrossValidation.RunOnValidation(gpu, Subset(set, train), Subset(set, held), k, centre, [0.01, 1, 100],
            PathScore.LogLoss, options);
        Assert.All(path.Points, p => Assert.Single(p.Scores));
        Assert.Equal(path.Points.MinBy(p => p.Mean)!.Value, path.Chosen);
        TrainResult single = SparseTraining.Train(gpu, Subset(set, train), Subset(set, held), k, centre,
            options with { Optimizer = "lbfgs", C = path.Chosen });
        Assert.Equal(single.Theta, path.Refit.Theta); // fitted from zeros: the same bits
        Check.Close(single.History[^1].ValLoss!.Value, path.Points.Single(p => p.Value == path.Chosen).Scores[0], 0, 1e-3,
            "held-out log-loss at the chosen C, path vs single fit");
        Assert.Equal(1 / (path.Chosen * train.Length), path.Refit.Plan.WeightDecay, 1e-12);
    }
}

public sealed class HostSparseCrossValidationTests(HostFixture fixture) : SparseCrossValidationTests(fixture), IClassFixture<HostFixture>
{
    /// <summary>
    /// Digits as sparse rows and as the same rows made dense: the sparse path's every fold at every C reaches the dense
    /// path's J, chooses the same C, and the model records it as the dense one does.
    /// </summary>
    [Fact]
    public void TheSparsePathIsTheDensePathOnTheSameRows()
    {
        Table table = DataSource.Load(Path.Combine(AppContext.BaseDirectory, "data", "digits.csv"), "digit", testSplit: false);
        Table dense = new(table.Source, table.FeatureNames, table.LabelName, table.Features, table.Labels) { Sparse = true };
        SparseTable sparse = SparseTrainingTests.Sparsify(dense);
        using Gpu host = Gpu.Open("host");
        var options = new TrainOptions { Seed = 3 };
        double[] cs = [0.01, 0.1, 1];
        (SoftmaxModel denseModel, PathResult densePath) = Pipeline.TrainPath(host, dense, null, options, cs, 3, PathScore.LogLoss);
        (SoftmaxModel sparseModel, PathResult sparsePath) = Pipeline.TrainSparsePath(host, sparse, null, options, cs, 3, PathScore.LogLoss);
        SamePath(densePath, sparsePath, scoreRtol: 1e-3);
        ModelSelection selection = Assert.IsType<ModelSelection>(sparseModel.Selection);
        Assert.Equal(("log-loss", 3, sparsePath.Chosen), (selection.Score, selection.Folds, selection.Chosen));
        Assert.Equal(cs, selection.Path.Select(r => r.Value));
        Assert.All(sparseModel.Standardizer.Mean, m => Assert.Equal(0, m)); // the centre is in the bias, as single sparse training's
        Assert.Equal(denseModel.Selection!.Folds, selection.Folds);
    }
}

public sealed class CpuSparseCrossValidationTests(CpuFixture fixture) : SparseCrossValidationTests(fixture), IClassFixture<CpuFixture>;

public sealed class CudaSparseCrossValidationTests(CudaFixture fixture) : SparseCrossValidationTests(fixture), IClassFixture<CudaFixture>;
