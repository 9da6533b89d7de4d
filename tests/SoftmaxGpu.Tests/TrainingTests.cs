using ILGPU.Runtime;
using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Tests.Reference;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>Whole training steps on the device against the float64 reference: gradient, curve, determinism.</summary>
public abstract class TrainingTests(AcceleratorFixture fixture)
{
    internal static (EncodedSet Set, int K) Iris() => Encoded(Check.IrisPath);

    /// <summary>A CSV file's rows as training encodes them (standardized, class indices), and its class count.</summary>
    internal static (EncodedSet Set, int K) Encoded(string path)
    {
        Table table = CsvTableReader.Read(path);
        string[] classes = table.DistinctClasses();
        return (Pipeline.Encode(table, classes, Standardizer.Fit(table.Features, table.Rows, table.Dim)), classes.Length);
    }

    [Fact]
    public void DeviceGradientMatchesFiniteDifferencesOfTheObjective()
    {
        Gpu gpu = fixture.Gpu();
        const int b = 13, d = 5, k = 4;
        const double weightDecay = 0.1;
        var random = new Random(5);
        double[] x = Check.AsDevice(Check.Normal(random, b * d));
        int[] labels = Enumerable.Range(0, b).Select(_ => random.Next(k)).ToArray();
        double[] theta = Check.AsDevice(Check.Normal(random, k * d + k, 0.5));

        // Central differences of J(θ) = mean CE + (λ/2)‖W‖² in float64.
        double[] numeric = CentralDifferences(theta, x, labels, null, b, d, k, weightDecay);
        (_, double[] analytic) = ReferenceMath.ObjectiveAndGradient(theta, x, labels, null, b, d, k, weightDecay);
        Check.Close(numeric, Check.ToFloat(analytic), 1e-7, 1e-5, "reference gradient vs finite differences");

        // The device's gradient of the mean CE (both paths), plus λW as the optimizer adds it.
        Accelerator acc = gpu.Accelerator;
        using var set = new DeviceSet(acc, new EncodedSet(Check.ToFloat(x), labels, null, b, d));
        foreach (bool fused in !gpu.Host && gpu.Kernels.FusedStep.Fits(d, k) ? new[] { false, true } : [false])
        {
            using var engine = new GradientEngine(gpu, SoftmaxCrossEntropy.Instance, d, k, b, fused);
            Assert.Equal(fused, engine.Fused);
            engine.Theta.CopyFromCPU(Check.ToFloat(theta));
            engine.ResetTotals();
            engine.Gradient(set, default, b, 1f / b);
            float[] device = engine.Grad.GetAsArray1D();
            for (int i = 0; i < k * d; i++)
                device[i] += (float)(weightDecay * theta[i]);
            Check.Close(numeric, device, 1e-5, 1e-4, $"device gradient vs finite differences, fused {fused}");
            Check.Close(ReferenceMath.ObjectiveAndGradient(theta, x, labels, null, b, d, k, 0).Objective,
                engine.ReadTotals().Loss, 1e-6, 1e-5, $"device loss vs reference, fused {fused}");
        }
    }

    [Theory]
    [InlineData("adam", 0.05f, 0f, true)]
    [InlineData("adam", 0.05f, 0f, false)]
    [InlineData("sgd", 0.5f, 0.01f, true)]
    [InlineData("sgd", 0.5f, 0.01f, false)]
    public void TwentyFullBatchStepsOnIrisFollowTheReferenceCurve(string optimizer, float lr, float weightDecay, bool fused)
    {
        Gpu gpu = fixture.Gpu();
        // Iris without its last 10 rows: classes of 50, 50 and 40 rows. With all three at 50 the bias gradient
        // at θ = 0 is exactly 0 in float64 but rounding noise in float32, and Adam's first step, lr·sign(g),
        // turns that noise into a full step: the curve would pin the rounding, not the algorithm.
        (EncodedSet whole, int k) = Iris();
        const int rows = 140;
        var iris = new EncodedSet(whole.Features[..(rows * whole.Dim)], whole.Labels[..rows], null, rows, whole.Dim);
        var options = new TrainOptions
        {
            Epochs = 20, BatchSize = 0, Optimizer = optimizer, LearningRate = lr, Schedule = "constant",
            WeightDecay = weightDecay, Momentum = 0.9f, Nesterov = true, Fused = fused,
        };
        TrainResult result = Trainer.Train(gpu, iris, null, k, options);

        // Reference: the same 20 steps in float64 from θ = 0; the loss is taken before each step.
        int n = iris.Rows, d = iris.Dim;
        double[] x = iris.Features.Select(v => (double)v).ToArray();
        var theta = new double[k * d + k];
        double[] m = new double[theta.Length], v = new double[theta.Length];
        var losses = new double[20];
        for (int step = 1; step <= 20; step++)
        {
            (double objective, double[] gradient) = ReferenceMath.ObjectiveAndGradient(theta, x, iris.Labels, null, n, d, k, 0);
            losses[step - 1] = objective;
            if (optimizer == "adam")
                ReferenceMath.AdamStep(theta, gradient, m, v, step, lr, 0.9, 0.999, 1e-8, weightDecay, k * d);
            else
                ReferenceMath.SgdStep(theta, gradient, m, lr, 0.9, true, weightDecay, k * d);
        }

        // Float32 against float64 over 20 steps: Adam's normalized steps carry rounding forward, so 5e-4 relative.
        Check.Close(losses, result.History.Select(e => (float)e.TrainLoss).ToArray(), 1e-5, 5e-4, $"{optimizer} loss curve, fused {fused}");
        Assert.True(losses[19] < 0.5 * losses[0], "the pinned curve must actually descend");
        // SGD's parameters follow the reference too. Adam's do not to this tolerance: its step m/√v divides
        // by a near-zero √v for near-zero gradients, so float32 rounding moves such weights by up to ~5%
        // while the loss, the quantity being pinned, agrees.
        if (optimizer == "sgd")
            Check.Close(theta, result.Theta, 1e-4, 1e-3, $"{optimizer} parameters after 20 steps");
    }

    // Default options: auto must pick L-BFGS on iris (Newton on the host engine), with λ = 1/N (scikit-learn's C = 1), and reach J*.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DefaultTrainingReachesTheOptimumOfTheRegularizedObjective(bool fused)
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = Iris();
        int n = iris.Rows, d = iris.Dim;
        double lambda = 1.0 / n; // scikit-learn's C = 1
        double[] x = iris.Features.Select(v => (double)v).ToArray();

        // J* in float64 by plain gradient descent, run until the gradient vanishes (checked, not assumed).
        var theta = new double[k * d + k];
        double optimum = 0;
        double[] gradient = [];
        for (int step = 0; step < 20000; step++)
        {
            (optimum, gradient) = ReferenceMath.ObjectiveAndGradient(theta, x, iris.Labels, null, n, d, k, lambda);
            for (int i = 0; i < theta.Length; i++)
                theta[i] -= 1.0 * gradient[i];
        }
        Assert.True(gradient.Max(Math.Abs) < 1e-9, $"the reference did not converge: ‖∇J‖∞ = {gradient.Max(Math.Abs):G3}");

        TrainResult result = Trainer.Train(gpu, iris, null, k, new TrainOptions { Fused = fused });
        Assert.Same(gpu.Host ? Optimizers.Newton : Optimizers.Lbfgs, result.Plan.Optimizer); // 15 parameters: Newton on the host
        Assert.Equal(lambda, result.Plan.WeightDecay);
        Assert.True(result.Converged, result.StopReason);
        double[] found = result.Theta.Select(v => (double)v).ToArray();
        (double atFound, double[] gradientAtFound) = ReferenceMath.ObjectiveAndGradient(found, x, iris.Labels, null, n, d, k, lambda);

        Assert.True(result.History.Count < 200, $"L-BFGS took {result.History.Count} iterations on iris");
        Assert.Contains($"{result.Plan.Optimizer.Name}: ", result.Summary);
        // Newton evaluates J in float64: its optimum is J*'s to float64's resolution; L-BFGS's to float32's.
        double tolerance = gpu.Host ? 1e-12 : 1e-6;
        Check.Close(optimum, result.Objective!.Value, 0, tolerance, "the objective the optimizer reports vs J*");
        Check.Close(optimum, atFound, 0, gpu.Host ? 1e-10 : 1e-6, "J at the optimizer's θ (float64, rounded to float) vs J*");
        Assert.True(gradientAtFound.Max(Math.Abs) < 1e-4, $"‖∇J‖∞ at L-BFGS's θ is {gradientAtFound.Max(Math.Abs):G3}");
    }

    [Fact]
    public void SameSeedSameDeviceGivesTheSameModel()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = Iris();
        var options = new TrainOptions { Optimizer = "adam", Epochs = 3, BatchSize = 16, Seed = 42 };
        float[] first = Trainer.Train(gpu, iris, null, k, options).Theta;
        float[] second = Trainer.Train(gpu, iris, null, k, options).Theta;
        float[] otherSeed = Trainer.Train(gpu, iris, null, k, options with { Seed = 43 }).Theta;
        Assert.Equal(first, second);
        Assert.NotEqual(first, otherSeed);
    }

    [Fact]
    public void DivergenceStopsWithAnActionableMessage()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = Iris();
        var options = new TrainOptions { Epochs = 50, BatchSize = 0, Optimizer = "sgd", LearningRate = 3e38f, Schedule = "constant" };
        var error = Assert.Throws<TrainingDivergedException>(() => Trainer.Train(gpu, iris, null, k, options));
        Assert.Contains("lower learning rate", error.Message);
    }

    [Fact]
    public void EarlyStoppingKeepsTheBestValidationEpoch()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = Iris();
        var options = new TrainOptions { Epochs = 200, BatchSize = 8, LearningRate = 0.5f, Schedule = "constant", Patience = 2 };
        Assert.True(options.MiniBatchAsked, "auto must choose Adam when early stopping is asked for");
        TrainResult result = Trainer.Train(gpu, iris, iris, k, options);
        Assert.True(result.StoppedEarly, "a learning rate this high should stop improving within 200 epochs");
        double best = result.History.Min(e => e.ValLoss!.Value);
        Assert.Equal(best, result.History[result.BestEpoch - 1].ValLoss);
        Assert.Equal(result.BestEpoch + options.Patience, result.History.Count);
        Assert.Same(Optimizers.Adam, result.Plan.Optimizer);
    }

    // Block boundaries: a block of one row, N = 150 not a multiple of the block, a last block of one row.
    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(149)]
    public void AGradientStreamedInBlocksEqualsTheResidentOneAndTheReference(int blockRows)
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = Iris();
        int n = iris.Rows, d = iris.Dim;
        double[] theta = Check.AsDevice(Check.Normal(new Random(11), k * d + k, 0.5));
        (double objective, double[] gradient) = ReferenceMath.ObjectiveAndGradient(theta,
            iris.Features.Select(v => (double)v).ToArray(), iris.Labels, null, n, d, k, 0);

        foreach (bool streamed in new[] { false, true })
        {
            using TrainingData data = streamed
                ? TrainingData.Streamed(gpu.Accelerator, iris, blockRows)
                : TrainingData.Resident(gpu.Accelerator, iris);
            Assert.Equal(streamed ? (n + blockRows - 1) / blockRows : 1, data.Blocks);
            using var engine = new GradientEngine(gpu, SoftmaxCrossEntropy.Instance, d, k, data.BlockRows);
            engine.Theta.CopyFromCPU(Check.ToFloat(theta));
            engine.ResetTotals();
            engine.FullBatchGradient(data);
            string what = streamed ? $"streamed in blocks of {blockRows}" : "resident";
            Check.Close(gradient, engine.Grad.GetAsArray1D(), 1e-6, 1e-4, $"gradient, {what}");
            Check.Close(objective, engine.ReadTotals().Loss, 1e-6, 1e-5, $"loss, {what}");
            Check.Close(objective, engine.Evaluate(data).Loss, 1e-6, 1e-5, $"evaluated loss, {what}");
        }
    }

    [Fact]
    public void LbfgsOnStreamedBlocksReachesTheResidentOptimum()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = Iris();
        TrainResult resident = Trainer.Train(gpu, iris, iris, k, new TrainOptions { Optimizer = "lbfgs" });
        TrainResult streamed = Trainer.Train(gpu, iris, iris, k, new TrainOptions { Optimizer = "lbfgs", StreamBlockRows = 19 });
        Assert.False(resident.Plan.Streamed);
        Assert.True(streamed.Plan.Streamed);
        Check.Close(resident.Objective!.Value, streamed.Objective!.Value, 0, 1e-6, "J streamed vs resident");
        // The validation set (iris again) streams too: its loss is the training loss.
        Check.Close(streamed.History[^1].TrainLoss, streamed.History[^1].ValLoss!.Value, 1e-6, 1e-5, "validation loss, streamed");
    }

    [Fact]
    public void AdamStreamedFromHostMemoryTrainsOnTheResidentBatches()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = Iris();
        var options = new TrainOptions { Optimizer = "adam", BatchSize = 16, Epochs = 30, LearningRate = 0.05f, StreamBlockRows = 40, Seed = 3 };
        TrainResult resident = Trainer.Train(gpu, iris, null, k, options with { StreamBlockRows = null });
        TrainResult streamed = Trainer.Train(gpu, iris, null, k, options);
        Assert.True(streamed.Plan.Streamed && !resident.Plan.Streamed);
        Assert.Equal(32, streamed.Plan.BlockRows); // whole batches per block
        // Blocks are gathered from the epoch's permutation of the whole set: the same batches, the same sums.
        Assert.Equal(resident.Theta, streamed.Theta);
        Assert.True(resident.History[^1].TrainAccuracy > 0.9, $"accuracy {resident.History[^1].TrainAccuracy:F4}");

        // Blocks of 7 rows: every batch of 16 spans two or three blocks and sums its gradient over them.
        TrainResult spanning = Trainer.Train(gpu, iris, null, k, options with { StreamBlockRows = 7 });
        Assert.Equal(7, spanning.Plan.BlockRows);
        Check.Close(resident.Theta.Select(v => (double)v).ToArray(), spanning.Theta, 1e-4, 1e-3, "θ, batches across blocks");
        Assert.Equal(resident.History[^1].TrainAccuracy, spanning.History[^1].TrainAccuracy);
    }

    [Fact]
    public void AdamStreamedFromAFileIsDeterministicAndTrains()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet sorted, int k) = Iris();
        // A file's blocks are read whole, so its mini-batches mix rows within a block only, and iris is sorted by
        // class: shuffle its rows once, as a large set should be before it is converted.
        int[] rows = Enumerable.Range(0, sorted.Rows).ToArray();
        new Random(7).Shuffle(rows);
        var iris = new EncodedSet(rows.SelectMany(r => sorted.Features.Skip(r * sorted.Dim).Take(sorted.Dim)).ToArray(),
            rows.Select(r => sorted.Labels[r]).ToArray(), null, sorted.Rows, sorted.Dim);
        var file = new BlocksOnly(iris);
        var options = new TrainOptions { Optimizer = "adam", BatchSize = 16, Epochs = 30, LearningRate = 0.05f, StreamBlockRows = 40, Seed = 3 };
        TrainResult first = Trainer.Train(gpu, file, null, k, options);
        TrainResult second = Trainer.Train(gpu, file, null, k, options);
        TrainResult resident = Trainer.Train(gpu, iris, null, k, options with { StreamBlockRows = null });
        Assert.True(first.Plan.Streamed);
        Assert.Equal(first.Theta, second.Theta);
        Assert.True(first.History[^1].TrainAccuracy > 0.9, $"accuracy {first.History[^1].TrainAccuracy:F4}");
        Check.Close(resident.History[^1].TrainLoss, first.History[^1].TrainLoss, 0, 0.1, "final loss, streamed vs resident");
        // Batches of 16 over blocks of 7: each spans blocks, and the run still trains.
        TrainResult spanning = Trainer.Train(gpu, file, null, k, options with { StreamBlockRows = 7 });
        Assert.True(spanning.History[^1].TrainAccuracy > 0.9, $"accuracy {spanning.History[^1].TrainAccuracy:F4}");

        // A full batch sums its gradient over the blocks and takes one step. (SGD, not Adam: Adam's first step is
        // η·sign(g), and on balanced iris the bias gradient at θ = 0 is rounding noise whose sign the order of the
        // sum decides.)
        var fullBatch = options with { Optimizer = "sgd", BatchSize = 0, Epochs = 5, LearningRate = 0.5f };
        Check.Close(Trainer.Train(gpu, iris, null, k, fullBatch with { StreamBlockRows = null }).Theta.Select(v => (double)v).ToArray(),
            Trainer.Train(gpu, iris, null, k, fullBatch).Theta, 1e-5, 1e-3, "full-batch SGD, streamed vs resident");
    }

    [Fact]
    public void LabelSmoothingTrainsTheSmoothedObjective()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet hard, int k) = Iris();
        const float epsilon = 0.1f;
        EncodedSet iris = Pipeline.Smoothed(hard, k, epsilon);
        // Row 0's target: ε/K everywhere, 1 − ε more at its label.
        float[] row0 = iris.Targets![..k];
        Assert.Equal(1f - epsilon + epsilon / k, row0[hard.Labels[0]]);
        Assert.Equal(1f, row0.Sum(), 6);

        int n = iris.Rows, d = iris.Dim;
        double[] x = iris.Features.Select(v => (double)v).ToArray();
        double[] targets = iris.Targets.Select(v => (double)v).ToArray();
        double[] theta = Check.AsDevice(Check.Normal(new Random(3), k * d + k, 0.5));
        (double objective, double[] gradient) = ReferenceMath.ObjectiveAndGradient(theta, x, iris.Labels, targets, n, d, k, 0);
        // The reference's gradient against central differences of its own smoothed objective.
        double[] numeric = CentralDifferences(theta, x, iris.Labels, targets, n, d, k, 0);
        Check.Close(numeric, Check.ToFloat(gradient), 1e-7, 1e-5, "smoothed reference gradient vs finite differences");

        // The device's loss and gradient of a fixed θ on the smoothed targets.
        CheckDeviceAt(gpu, iris, k, theta, objective, gradient, "smoothed targets");

        // Training reaches the smoothed objective's optimum: its J is the reference's at the θ it returns.
        TrainResult result = Trainer.Train(gpu, iris, null, k, new TrainOptions { Optimizer = "lbfgs" });
        Assert.True(result.Converged, result.StopReason);
        double lambda = result.Plan.WeightDecay;
        Check.Close(ReferenceMath.ObjectiveAndGradient(result.Theta.Select(v => (double)v).ToArray(), x, iris.Labels, targets,
            n, d, k, lambda).Objective, result.Objective!.Value, 0, 1e-6, "smoothed J at the returned θ");
    }

    [Fact]
    public void WeightsTrainTheObjectiveOfRowsRepeatedByTheirWeight()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = Iris();
        string[] classes = CsvTableReader.Read(Check.IrisPath).DistinctClasses();
        int n = iris.Rows, d = iris.Dim;
        // Integer sample weights 0…3 times class weights (2, 1, 1): the weighted objective Σ w·CE/Σw + (λ/2)‖W‖²,
        // λ = 1/Σw, is the plain objective of the set with row i repeated w_i times, a second formulation to check against.
        var random = new Random(11);
        float[] sample = Enumerable.Range(0, n).Select(_ => (float)random.Next(4)).ToArray();
        var options = new TrainOptions { Optimizer = "lbfgs", ClassWeight = $"{classes[0]}=2", WeightColumn = "w" };
        (EncodedSet weighted, TrainOptions weightedOptions) = Weighting.Apply(iris, classes, options, sample);
        int[] repeats = Enumerable.Range(0, n).Select(r => (int)sample[r] * (iris.Labels[r] == 0 ? 2 : 1)).ToArray();
        double sum = weightedOptions.WeightSum!.Value;
        Assert.Equal(repeats.Sum(), sum, 9);
        Check.Close(n, weighted.Targets!.Sum(v => (double)v), 0, 1e-5, "target mass: mean 1 a row");
        int[] rows = Enumerable.Range(0, n).SelectMany(r => Enumerable.Repeat(r, repeats[r])).ToArray();
        double[] x = iris.Features.Select(v => (double)v).ToArray();
        double[] xr = rows.SelectMany(r => x.Skip(r * d).Take(d)).ToArray();
        int[] yr = rows.Select(r => iris.Labels[r]).ToArray();
        double[] targets = weighted.Targets!.Select(v => (double)v).ToArray();
        double lambda = 1 / sum;

        double[] theta = Check.AsDevice(Check.Normal(new Random(3), k * d + k, 0.5));
        (double objective, double[] gradient) = ReferenceMath.ObjectiveAndGradient(theta, x, iris.Labels, targets, n, d, k, lambda);
        (double repeated, double[] repeatedGradient) = ReferenceMath.ObjectiveAndGradient(theta, xr, yr, null, rows.Length, d, k, lambda);
        Check.Close(repeated, objective, 0, 1e-6, "weighted J vs J of the repeated rows");
        Check.Close(repeatedGradient, Check.ToFloat(gradient), 1e-6, 1e-5, "weighted ∇J vs ∇J of the repeated rows");
        Check.Close(CentralDifferences(theta, x, iris.Labels, targets, n, d, k, lambda), Check.ToFloat(gradient), 1e-7, 1e-5,
            "weighted reference gradient vs finite differences");

        // The device's loss and gradient of a fixed θ on the weighted targets (no penalty: the engine adds none).
        (double loss, double[] lossGradient) = ReferenceMath.ObjectiveAndGradient(theta, x, iris.Labels, targets, n, d, k, 0);
        CheckDeviceAt(gpu, weighted, k, theta, loss, lossGradient, "weighted targets");

        // Training reaches the optimum of the repeated rows, with λ = 1/Σw resolved from the weights.
        TrainResult result = Trainer.Train(gpu, weighted, null, k, weightedOptions);
        Assert.True(result.Converged, result.StopReason);
        Assert.Equal(1 / sum, result.Plan.WeightDecay, 12);
        Assert.Contains("1/(C·Σw)", result.Plan.WeightDecaySource);
        Check.Close(ReferenceMath.ObjectiveAndGradient(result.Theta.Select(v => (double)v).ToArray(), x, iris.Labels, targets,
            n, d, k, lambda).Objective, result.Objective!.Value, 0, 1e-6, "weighted J at the returned θ");
        var repeatedSet = new EncodedSet(Check.ToFloat(xr), yr, null, rows.Length, d);
        TrainResult plain = Trainer.Train(gpu, repeatedSet, null, k, new TrainOptions { Optimizer = "lbfgs" });
        Check.Close(plain.Objective!.Value, result.Objective.Value, 0, 1e-6, "weighted optimum vs the repeated rows' optimum");
    }

    [Fact]
    public void AWarmStartContinuesFromTheGivenTheta()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = Iris();
        TrainResult cold = Trainer.Train(gpu, iris, null, k, new TrainOptions { Optimizer = "lbfgs" });
        TrainResult partway = Trainer.Train(gpu, iris, null, k, new TrainOptions { Optimizer = "lbfgs", Epochs = 4 });
        TrainResult warm = Trainer.Train(gpu, iris, null, k, new TrainOptions { Optimizer = "lbfgs", InitialTheta = partway.Theta });
        // The first warm iteration starts at the fourth cold one's J and goes below it; the run ends at the optimum.
        Assert.True(warm.History[0].Objective < partway.Objective,
            $"first warm J {warm.History[0].Objective} vs {partway.Objective} where it started");
        Assert.True(warm.History[0].Objective < cold.History[0].Objective);
        Check.Close(cold.Objective!.Value, warm.Objective!.Value, 0, 1e-6, "warm-started optimum vs cold");
        // Adam from θ continues too: one epoch from the optimum stays near it.
        var adam = new TrainOptions { Optimizer = "adam", Epochs = 1, LearningRate = 1e-4f, InitialTheta = cold.Theta };
        Assert.True(Trainer.Train(gpu, iris, null, k, adam).History[0].TrainLoss < cold.History[0].TrainLoss);
        var wrong = Assert.Throws<ArgumentException>(() =>
            Trainer.Train(gpu, iris, null, k, new TrainOptions { InitialTheta = new float[3] }));
        Assert.Contains("the initial θ has 3 parameters; a model of 4 features and 3 classes has 15", wrong.Message);
    }

    [Fact]
    public void AnOptimizerPluggedInThroughTheTableTrainsIris()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = Iris();
        var options = new TrainOptions
        {
            Optimizer = TestOptimizers.GradientDescent.Name, BatchSize = 0, LearningRate = 0.5f, Epochs = 60, Schedule = "constant",
        };
        TrainResult result = Trainer.Train(gpu, iris, null, k, options);
        Assert.Same(TestOptimizers.GradientDescent, result.Plan.Optimizer);
        Assert.Equal(60, result.History.Count);
        Assert.True(result.History[^1].TrainLoss < 0.5 * result.History[0].TrainLoss,
            $"loss {result.History[0].TrainLoss:F4} -> {result.History[^1].TrainLoss:F4}");
        Assert.True(result.History[^1].TrainAccuracy > 0.9, $"accuracy {result.History[^1].TrainAccuracy:F4}");
    }

    /// <summary>The device's mean loss and its gradient (no penalty) at a fixed θ over a whole set, against the reference's.</summary>
    private static void CheckDeviceAt(Gpu gpu, EncodedSet set, int k, double[] theta, double loss, double[] gradient, string what)
    {
        using var device = new DeviceSet(gpu.Accelerator, set);
        using var engine = new GradientEngine(gpu, SoftmaxCrossEntropy.Instance, set.Dim, k, set.Rows, softTargets: set.Targets is not null);
        engine.Theta.CopyFromCPU(Check.ToFloat(theta));
        engine.ResetTotals();
        engine.Gradient(device, default, set.Rows, 1f / set.Rows);
        Check.Close(gradient, engine.Grad.GetAsArray1D(), 1e-6, 1e-4, $"device gradient, {what}");
        Check.Close(loss, engine.ReadTotals().Loss, 1e-6, 1e-5, $"device loss, {what}");
    }

    /// <summary>∂J/∂θ_i ≈ (J(θ + h·e_i) − J(θ − h·e_i)) / 2h of the float64 reference objective, h = 1e-6.</summary>
    private static double[] CentralDifferences(double[] theta, double[] x, int[] labels, double[]? targets, int n, int d, int k,
        double lambda)
    {
        const double h = 1e-6;
        return Enumerable.Range(0, theta.Length).Select(i =>
        {
            double[] plus = (double[])theta.Clone(), minus = (double[])theta.Clone();
            plus[i] += h;
            minus[i] -= h;
            return (ReferenceMath.ObjectiveAndGradient(plus, x, labels, targets, n, d, k, lambda).Objective -
                    ReferenceMath.ObjectiveAndGradient(minus, x, labels, targets, n, d, k, lambda).Objective) / (2 * h);
        }).ToArray();
    }

    /// <summary>Rows read in ranges only, as from a file (no gather).</summary>
    /// <summary>A set read in ranges only, as a file is (not <see cref="IRowGather"/>).</summary>
    internal sealed class BlocksOnly(EncodedSet set) : IRowSource
    {
        public long Rows => set.Rows;
        public int Dim => set.Dim;
        public int TargetWidth => set.TargetWidth;
        public void Read(long start, int count, RowBlock block) => set.Read(start, count, block);
    }
}

public sealed class CpuTrainingTests(CpuFixture fixture) : TrainingTests(fixture), IClassFixture<CpuFixture>;

public sealed class HostTrainingTests(HostFixture fixture) : TrainingTests(fixture), IClassFixture<HostFixture>;

public sealed class CudaTrainingTests(CudaFixture fixture) : TrainingTests(fixture), IClassFixture<CudaFixture>;

public sealed class OpenCLTrainingTests(OpenCLFixture fixture) : TrainingTests(fixture), IClassFixture<OpenCLFixture>;
