using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Tests.Reference;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// Newton's method for small softmax models (<see cref="NewtonOptimizer"/>): its float64 objective against the reference,
/// its Hessian against finite differences of its gradient, and its optimum where L-BFGS on float32 passes stops short.
/// </summary>
public sealed class NewtonTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    /// <summary>Wine (178 rows, 13 features, 3 classes), standardized: nearly separable, so weak penalties are ill-conditioned.</summary>
    internal static (EncodedSet Set, int K) Wine() =>
        TrainingTests.Encoded(Path.Combine(AppContext.BaseDirectory, "data", "wine.csv"));

    /// <summary>Seeded rows of awkward size; with <paramref name="weighted"/>, target rows of random mass (weights and smoothing).</summary>
    private static (EncodedSet Set, double[] X, double[]? Soft) Rows(int n, int d, int k, bool weighted, int seed)
    {
        var random = new Random(seed);
        double[] x = Check.Normal(random, n * d);
        int[] labels = [.. Enumerable.Range(0, n).Select(_ => random.Next(k))];
        double[]? soft = weighted
            ? [.. Enumerable.Range(0, n).SelectMany(i =>
            {
                double weight = 0.2 + 2 * random.NextDouble();
                double[] spread = [.. Enumerable.Range(0, k).Select(c => 0.1 / k + (c == labels[i] ? 0.9 : 0))];
                return spread.Select(t => weight * t);
            })]
            : null;
        soft = soft?.Select(t => (double)(float)t).ToArray(); // the set holds them as float
        return (new EncodedSet(Check.ToFloat(x), labels, soft is null ? null : Check.ToFloat(soft), n, d), Check.AsDevice(x), soft);
    }

    [Theory]
    [InlineData(37, false, 1.0)]
    [InlineData(37, true, 1.0)]
    [InlineData(37, false, 3000.0)] // logits of thousands: exp overflows unless the row max is taken out
    [InlineData(2101, true, 1.0)] // enough rows for the blocks to run on every core
    public void ObjectiveAndGradientMatchTheReference(int n, bool weighted, double scale)
    {
        const int d = 5, k = 4;
        const double lambda = 0.03;
        (EncodedSet set, double[] x, double[]? soft) = Rows(n, d, k, weighted, seed: 11);
        double[] theta = Check.Normal(new Random(12), k * d + k, scale);
        (double j, double[] gradient) = ReferenceMath.ObjectiveAndGradient(theta, x, set.Labels, soft, n, d, k, lambda);
        var objective = new ExactSoftmaxObjective(set, k, n, lambda);
        var got = new double[theta.Length];
        (double exact, double loss, _) = objective.Evaluate(theta, got);
        Assert.True(double.IsFinite(exact) && double.IsFinite(loss));
        Check.Close(j, exact, 1e-12, 1e-12, "J");
        Check.Close(gradient, got, 1e-12, 1e-10, "∇J");

        // Over two ranges of the rows (a fold model's), divided by their count: the reference on those rows alone.
        (int Start, int Count)[] ranges = [(0, n / 3), (n / 3 + 5, n - n / 3 - 5)];
        int[] rows = [.. ranges.SelectMany(r => Enumerable.Range(r.Start, r.Count))];
        double[] xs = [.. rows.SelectMany(r => x.Skip(r * d).Take(d))];
        double[]? softs = soft is null ? null : [.. rows.SelectMany(r => soft.Skip(r * k).Take(k))];
        (double jRows, double[] gRows) = ReferenceMath.ObjectiveAndGradient(theta, xs, [.. rows.Select(r => set.Labels[r])], softs,
            rows.Length, d, k, lambda);
        (double exactRows, _, _) = new ExactSoftmaxObjective(set, k, rows.Length, lambda, ranges).Evaluate(theta, got);
        Check.Close(jRows, exactRows, 1e-12, 1e-12, "J over two ranges");
        Check.Close(gRows, got, 1e-12, 1e-10, "∇J over two ranges");
    }

    [Theory]
    [InlineData(29, false)]
    [InlineData(29, true)]
    [InlineData(2100, true)] // enough rows for the blocks to run on every core
    public void HessianMatchesFiniteDifferencesOfTheGradient(int n, bool weighted)
    {
        const int d = 3, k = 3;
        const double lambda = 0.05, h = 1e-5;
        (EncodedSet set, _, _) = Rows(n, d, k, weighted, seed: 21);
        var objective = new ExactSoftmaxObjective(set, k, n, lambda, [(0, n / 4), (n / 4 + 4, n - n / 4 - 4)]);
        int p = objective.Parameters;
        double[] theta = Check.Normal(new Random(22), p, 0.7);
        var hessian = new double[p * p];
        objective.Hessian(theta, hessian);
        // Take out ε·v_a·v_aᵀ, v_a = every class's weight on x̃_a (a = D: the biases): J's own Hessian is left.
        for (int a = 0; a <= d; a++)
            for (int c = 0; c < k; c++)
                for (int c2 = 0; c2 < k; c2++)
                    hessian[Index(c, a) * p + Index(c2, a)] -= ExactSoftmaxObjective.ShiftCurvature;
        var reference = new double[p * p];
        var plus = new double[p];
        var minus = new double[p];
        for (int j = 0; j < p; j++)
        {
            double[] at = [.. theta];
            at[j] = theta[j] + h;
            objective.Evaluate(at, plus);
            at[j] = theta[j] - h;
            objective.Evaluate(at, minus);
            for (int i = 0; i < p; i++)
                reference[i * p + j] = (plus[i] - minus[i]) / (2 * h);
        }
        Check.Close(reference, hessian, 1e-8, 1e-6, "∇²J vs central differences of ∇J");

        int Index(int c, int a) => a < d ? c * d + a : k * d + c;
    }

    [Fact]
    public void NewtonReachesTheOptimumWhereLbfgsStopsShort()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet wine, int k) = Wine();
        int n = wine.Rows, d = wine.Dim;
        var options = new TrainOptions { C = 1e4 }; // λ = 1/(C·N): nearly no penalty on nearly separable rows
        double lambda = 1 / (1e4 * n);
        var objective = new ExactSoftmaxObjective(wine, k, n, lambda);
        using var newton = new NewtonOptimizer(objective, new double[objective.Parameters]);
        EpochOutcome last;
        int iterations = 0;
        do
            last = newton.Run(++iterations);
        while (last.Converged is null && iterations < NewtonOptimizer.DefaultIterations);
        Assert.NotNull(last.Converged);
        Assert.True(iterations < 40, $"Newton took {iterations} iterations");

        // At its θ the float64 reference's gradient vanishes: the optimum, not a point the stopping rule settled for.
        double[] x = [.. wine.Features.Select(v => (double)v)];
        (double j, double[] gradient) = ReferenceMath.ObjectiveAndGradient(newton.Position.ToArray(), x, wine.Labels, null, n, d, k, lambda);
        Assert.True(gradient.Max(Math.Abs) < 1e-9, $"‖∇J‖∞ = {gradient.Max(Math.Abs):G3} at Newton's θ");
        Check.Close(j, last.Objective!.Value, 0, 1e-13, "J Newton reports vs the reference's at its θ");

        // L-BFGS on the host engine's float32 passes ends above it; auto gives this model Newton (42 parameters).
        TrainResult lbfgs = Trainer.Train(gpu, wine, null, k, options with { Optimizer = "lbfgs" });
        Assert.True(lbfgs.Objective >= j, $"L-BFGS's J {lbfgs.Objective:G12} is below Newton's {j:G12}");
        TrainResult auto = Trainer.Train(gpu, wine, null, k, options);
        Assert.Same(Optimizers.Newton, auto.Plan.Optimizer);
        Check.Close(j, auto.Objective!.Value, 0, 1e-12, "auto's J vs Newton's");
    }

    [Fact]
    public void EachFoldAtWeakPenaltiesReachesTheSingleFitsOptimum()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet wine, int k) = Wine();
        var options = new TrainOptions { Seed = 5 };
        double[] cs = [1, 100, 1e4];
        PathResult path = CrossValidation.Run(gpu, wine, k, cs, folds: 3, PathScore.LogLoss, options);
        int[] foldOf = Split.StratifiedFolds(wine.Labels, 3, options.Seed);
        for (int fold = 0; fold < 3; fold++)
        {
            int[] train = [.. Enumerable.Range(0, wine.Rows).Where(r => foldOf[r] != fold)];
            EncodedSet rows = new([.. train.SelectMany(r => wine.Features.Skip(r * wine.Dim).Take(wine.Dim))],
                [.. train.Select(r => wine.Labels[r])], null, train.Length, wine.Dim);
            foreach (PathPoint point in path.Points)
            {
                TrainResult single = Trainer.Train(gpu, rows, null, k, options with { C = point.Value });
                Check.Close(single.Objective!.Value, point.Objectives[fold], 0, 1e-9,
                    $"fold {fold}'s J at C = {point.Value}, warm-started on the shared rows vs a single fit from zeros");
            }
        }
    }

    [Fact]
    public void ThePathGivesTheSameBitsTwice()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet wine, int k) = Wine();
        double[][] Objectives() => [.. CrossValidation.Run(gpu, wine, k, [0.1, 10, 1000], folds: 4, PathScore.Accuracy,
            new TrainOptions()).Points.Select(p => p.Objectives)];
        Assert.Equal(Objectives(), Objectives());
    }

    [Fact]
    public void NewtonNamedWhereItCannotRunIsOneClearError()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = TrainingTests.Iris();
        var error = Assert.Throws<ArgumentException>(() =>
            Trainer.Train(gpu, iris, null, k, new TrainOptions { Optimizer = "newton", Loss = SigmoidCrossEntropy.Instance }));
        Assert.Contains("--optimizer newton runs on the host engine", error.Message);
        var streamed = Assert.Throws<ArgumentException>(() =>
            Trainer.Train(gpu, iris, null, k, new TrainOptions { Optimizer = "newton", StreamBlockRows = 50 }));
        Assert.Contains("not streamed", streamed.Message);
    }
}
