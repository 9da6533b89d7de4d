using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Tests.Reference;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// The sparse objective on a device (<see cref="DeviceSparseObjective"/>) against the host engine's
/// (<see cref="SparseObjective{THead}"/>) and the float64 reference on the same rows made dense: awkward sizes, an
/// empty row and a row of one non-zero, K = 1 and K beyond a warp, logits of about 1e30, centring on and off;
/// validation rows scored in blocks; rows streamed through the device in blocks; and L-BFGS through
/// <see cref="SparseTraining"/> reaching the host's optimum, rows resident and streamed.
/// Sizes stay tiny: ILGPU's CPU accelerator emulates its threads. Subclasses bind the tests to one accelerator each.
/// </summary>
public abstract class DeviceSparseObjectiveTests(AcceleratorFixture fixture)
{
    // (rows, D, K, density, scale of θ, centred)
    public static TheoryData<int, int, int, double, double, bool> Shapes => new()
    {
        { 3, 5, 2, 0.5, 1, false },
        { 37, 53, 7, 0.1, 1, false },
        { 37, 53, 7, 0.1, 1, true },
        { 41, 17, 1, 0.3, 1, true },     // K = 1: every loss 0, every gradient 0 but the penalty's
        { 23, 9, 43, 0.3, 1, true },     // K beyond a warp of 32
        { 60, 20, 5, 0.2, 1e29, false }, // logits of about 1e30
    };

    private const double Lambda = 0.01;

    private Gpu Gpu => fixture.Gpu();

    /// <summary>Seeded rows (row 0 empty, row 1 one non-zero, column 0 in every other row), labels, θ and μ.</summary>
    private static (SparseSet Set, double[] Theta, double[]? Centre) Problem(int rows, int d, int k, double density, double scale,
        bool centred)
    {
        var random = new Random(rows * 31 + d * 7 + k);
        SparseRows x = SparseTrainingTests.RandomRows(random, rows, d, density);
        int[] labels = Enumerable.Range(0, rows).Select(_ => random.Next(k)).ToArray();
        double[] theta = Check.AsDevice(Check.Normal(random, k * d + k, scale));
        double[]? centre = centred ? Check.AsDevice(Check.Normal(random, d, 0.5)) : null;
        return (new SparseSet(x, labels), theta, centre);
    }

    /// <summary>J and ∇J of the float64 reference on the rows made dense (and centred), θ in the model's layout [W | b].</summary>
    private static (double J, double[] Gradient) Reference(SparseSet set, double[] theta, double[]? centre, int k, double lambda)
    {
        return ReferenceMath.ObjectiveAndGradient(theta, SparseTrainingTests.DenseCentred(set.X, centre), set.Labels, null, set.Rows,
            set.Dim, k, lambda);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void TheDeviceObjectiveIsTheHostsAndTheReference(int rows, int d, int k, double density, double scale, bool centred)
    {
        (SparseSet set, double[] theta, double[]? centre) = Problem(rows, d, k, density, scale, centred);
        using var device = new DeviceSparseObjective(Gpu, SoftmaxCrossEntropy.Instance, set, k, centre, Lambda);
        using var host = new SparseObjective<SoftmaxHead>(set, k, centre, Lambda);
        CheckAgainst(host, "the host engine's", device, set, theta, centre, k, scale);
    }

    /// <summary>
    /// Rows streamed through the device in blocks (<see cref="SparseBlocks"/>: a third of the rows, and no more
    /// non-zeros than twice the longest row, so the entry limit also cuts blocks): the same J and ∇J as the resident
    /// rows and the reference, the same bits twice; validation rows streamed score as resident ones.
    /// </summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void RowsStreamedInBlocksGiveTheResidentObjective(int rows, int d, int k, double density, double scale, bool centred)
    {
        (SparseSet set, double[] theta, double[]? centre) = Problem(rows, d, k, density, scale, centred);
        long longest = Enumerable.Range(0, rows).Max(r => set.X.RowStart[r + 1] - set.X.RowStart[r]);
        var blocks = new SparseBlocks(Math.Max(1, rows / 3), Math.Max(1, 2 * longest), Resident: false);
        Assert.True(blocks.Of(set.X).Count() >= Math.Min(rows, 3), "the rows should pass in several blocks");
        using var resident = new DeviceSparseObjective(Gpu, SoftmaxCrossEntropy.Instance, set, k, centre, Lambda);
        using var streamed = new DeviceSparseObjective(Gpu, SoftmaxCrossEntropy.Instance, set, k, centre, Lambda, blocks);
        CheckAgainst(resident, "the resident rows'", streamed, set, theta, centre, k, scale);

        double[] transposed = SparseTraining.Transposed(Check.ToFloat(theta), k, d);
        (double j, _, double residentLoss, double residentAccuracy) = resident.Evaluate(transposed);
        (double scoredLoss, double scoredAccuracy) = streamed.Score(transposed, set);
        Check.Close(residentLoss, scoredLoss, 1e-6 * Math.Max(1, scale), 1e-6, "streamed score of the rows against their resident loss");
        Assert.Equal(residentAccuracy, scoredAccuracy);
        Check.Close(j, streamed.Evaluate(transposed).J, 1e-6 * Math.Max(1, scale), 1e-6, "J after a score's uploads");
    }

    /// <summary>
    /// <paramref name="tested"/>'s J and ∇J at θ against the float64 reference and against <paramref name="expected"/>
    /// (mean loss and accuracy too), and the same bits from two evaluations.
    /// </summary>
    private static void CheckAgainst(ISparseObjective expected, string expectedName, ISparseObjective tested, SparseSet set,
        double[] theta, double[]? centre, int k, double scale)
    {
        int d = set.Dim;
        (double jRef, double[] gRef) = Reference(set, theta, centre, k, Lambda);
        double[] transposed = SparseTraining.Transposed(Check.ToFloat(theta), k, d);
        (double j1, double[] g1, double loss1, double accuracy1) = Evaluate(tested, transposed);
        (double j2, double[] g2, _, _) = Evaluate(tested, transposed);
        (double jExpected, double[] gExpected, double lossExpected, double accuracyExpected) = Evaluate(expected, transposed);

        double atol = 1e-6 * Math.Max(1, scale);
        Check.Close(jRef, j1, atol, 1e-5, "J against the reference");
        Check.Close(gRef, SparseTrainingTests.Untransposed(g1, k, d), atol, 1e-4, "∇J against the reference");
        Check.Close(jExpected, j1, atol, 1e-6, $"J against {expectedName}");
        Check.Close(lossExpected, loss1, atol, 1e-6, $"mean loss against {expectedName}");
        Check.Close(gExpected, g1, atol, 1e-4, $"∇J against {expectedName}");
        Assert.Equal(accuracyExpected, accuracy1);
        Assert.Equal(j1, j2); // deterministic: the same bits
        Assert.Equal(g1, g2);
    }

    private static (double J, double[] Gradient, double Loss, double Accuracy) Evaluate(ISparseObjective objective, double[] theta)
    {
        var gradient = new double[objective.Parameters];
        (double j, double loss, double accuracy) = objective.Evaluate(theta, gradient);
        return (j, gradient, loss, accuracy);
    }

    /// <summary>
    /// Validation rows five times the training rows: scored in blocks of N through the same Z (blocks that start past
    /// an empty row, the last one short), as the host scores them; the training rows score as their evaluation.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ScoringValidationRowsInBlocksIsTheHostsScore(bool centred)
    {
        Gpu gpu = Gpu;
        const int Rows = 7, Held = 37, D = 13, K = 4;
        var random = new Random(centred ? 17 : 16);
        var train = new SparseSet(SparseTrainingTests.RandomRows(random, Rows, D, 0.3), Labels(random, Rows, K));
        var held = new SparseSet(SparseTrainingTests.RandomRows(random, Held, D, 0.3), Labels(random, Held, K));
        double[] theta = Check.AsDevice(Check.Normal(random, K * D + K));
        double[]? centre = centred ? Check.AsDevice(Check.Normal(random, D, 0.5)) : null;
        double[] transposed = SparseTraining.Transposed(Check.ToFloat(theta), K, D);
        (double jRef, _) = Reference(held, theta, centre, K, 0);

        using var device = new DeviceSparseObjective(gpu, SoftmaxCrossEntropy.Instance, train, K, centre, Lambda);
        using var host = new SparseObjective<SoftmaxHead>(train, K, centre, Lambda);
        (double loss, double accuracy) = device.Score(transposed, held);
        (double hostLoss, double hostAccuracy) = host.Score(transposed, held);
        Check.Close(jRef, loss, 1e-6, 1e-5, "validation loss against the reference");
        Check.Close(hostLoss, loss, 1e-7, 1e-6, "validation loss against the host engine's");
        Assert.Equal(hostAccuracy, accuracy);

        (_, _, double trainLoss, double trainAccuracy) = device.Evaluate(transposed);
        (double scoredLoss, double scoredAccuracy) = device.Score(transposed, train);
        Assert.Equal(trainLoss, scoredLoss); // the same kernels on the same rows
        Assert.Equal(trainAccuracy, scoredAccuracy);
        Assert.Equal((loss, accuracy), device.Score(transposed, held)); // the kept copy: the same bits
    }

    /// <summary>L-BFGS through <see cref="SparseTraining"/> on this device reaches the host engine's optimum, validation rows scored alike.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LbfgsOnTheDeviceReachesTheHostEnginesOptimum(bool centred)
    {
        Gpu gpu = Gpu;
        const int Rows = 90, Held = 30, D = 15, K = 3;
        var random = new Random(centred ? 23 : 22);
        (SparseSet train, SparseSet held) = (Separable(random, Rows, D, K), Separable(random, Held, D, K));
        double[]? centre = centred ? ColumnMeans(train.X) : null;
        var options = new TrainOptions { Optimizer = Optimizers.Lbfgs.Name };

        using Gpu host = Devices.Gpu.Open("host");
        TrainResult onHost = SparseTraining.Train(host, train, held, K, centre, options);
        TrainResult onDevice = SparseTraining.Train(gpu, train, held, K, centre, options);

        // 4 KiB of device memory: θ, two gradients and blocks of a few rows; the validation rows pass through them too.
        TrainResult streamed = SparseTraining.Train(gpu, train, held, K, centre, options with { DeviceMemory = 4096 });

        Assert.Contains("streamed through the device", SparseTraining.Engine(gpu, train.X, held.X, K, options with { DeviceMemory = 4096 }));
        Assert.True(onHost.Converged, onHost.StopReason);
        Assert.True(onDevice.Converged, onDevice.StopReason);
        Assert.True(streamed.Converged, streamed.StopReason);
        Check.Close(onHost.Objective!.Value, onDevice.Objective!.Value, 0, 1e-6, "J at the optimum");
        Check.Close(onHost.Objective!.Value, streamed.Objective!.Value, 0, 1e-6, "J at the optimum, rows streamed");
        Check.Close(onHost.History[^1].ValLoss!.Value, onDevice.History[^1].ValLoss!.Value, 1e-5, 1e-4, "validation loss at the optimum");
        Check.Close(onHost.History[^1].ValLoss!.Value, streamed.History[^1].ValLoss!.Value, 1e-5, 1e-4, "validation loss at the optimum, rows streamed");
    }

    /// <summary>
    /// Target rows on the device, uploaded with each block: multi-label tag sets with the sigmoid head
    /// (<see cref="SigmoidCrossEntropy"/>) against the float64 multi-label reference and the host's
    /// <see cref="SigmoidHead"/> (rows without a tag, K = 1, logits of about 1e30), and softmax target rows (label
    /// smoothing) against the host's <see cref="SoftmaxHead"/>; resident and streamed in blocks alike, validation rows
    /// scored against their own target rows.
    /// </summary>
    [Theory]
    [InlineData(37, 53, 7, 0.1, 1, true)]
    [InlineData(41, 17, 1, 0.3, 1, false)]
    [InlineData(60, 20, 5, 0.2, 1e29, false)]
    public void TargetRowsOnTheDeviceGiveTheHostsObjective(int rows, int d, int k, double density, double scale, bool centred)
    {
        Gpu gpu = Gpu;
        (SparseSet plain, double[] theta, double[]? centre) = Problem(rows, d, k, density, scale, centred);
        double[] transposed = SparseTraining.Transposed(Check.ToFloat(theta), k, d);
        long longest = Enumerable.Range(0, rows).Max(r => plain.X.RowStart[r + 1] - plain.X.RowStart[r]);
        var blocks = new SparseBlocks(Math.Max(1, rows / 3), Math.Max(1, 2 * longest), Resident: false);
        double atol = 1e-6 * Math.Max(1, scale);

        float[] tags = SparseMultiLabelTests.RandomTags(new Random(rows), rows, k);
        var tagged = new SparseSet(plain.X, plain.Labels) { Targets = tags };
        (double jRef, double[] gRef) = ReferenceMath.MultiLabelObjectiveAndGradient(theta, SparseTrainingTests.DenseCentred(plain.X, centre),
            tags.Select(v => (double)v).ToArray(), rows, d, k, Lambda);
        using var host = new SparseObjective<SigmoidHead>(tagged, k, centre, Lambda);
        (double jHost, double[] gHost, _, double accuracyHost) = host.Evaluate(transposed);
        Check.Close(jRef, jHost, atol, 1e-5, "host J against the multi-label reference");
        Check.Close(gRef, SparseTrainingTests.Untransposed(gHost, k, d), atol, 1e-4, "host ∇J against the multi-label reference");
        foreach (SparseBlocks? plan in new[] { null, blocks })
        {
            using var device = new DeviceSparseObjective(gpu, SigmoidCrossEntropy.Instance, tagged, k, centre, Lambda, plan);
            (double j, double[] g, double loss, double accuracy) = device.Evaluate(transposed);
            string how = plan is null ? "resident" : "streamed";
            Check.Close(jHost, j, atol, 1e-6, $"sigmoid J, {how}, against the host engine's");
            Check.Close(gHost, g, atol, 1e-4, $"sigmoid ∇J, {how}, against the host engine's");
            Assert.Equal(accuracyHost, accuracy);
            Check.Close(loss, device.Score(transposed, tagged).Loss, atol, 1e-6, $"sigmoid score, {how}, of the training rows");
        }

        float[] smoothed = Pipeline.Smoothed(new EncodedSet([], plain.Labels, null, rows, d), k, 0.1f).Targets!;
        var soft = new SparseSet(plain.X, plain.Labels) { Targets = smoothed };
        using var softHost = new SparseObjective<SoftmaxHead>(soft, k, centre, Lambda);
        (double jSoft, double[] gSoft, _, _) = softHost.Evaluate(transposed);
        foreach (SparseBlocks? plan in new[] { null, blocks })
        {
            using var device = new DeviceSparseObjective(gpu, SoftmaxCrossEntropy.Instance, soft, k, centre, Lambda, plan);
            (double j, double[] g, _, _) = device.Evaluate(transposed);
            Check.Close(jSoft, j, atol, 1e-6, "softmax J with target rows against the host engine's");
            Check.Close(gSoft, g, atol, 1e-4, "softmax ∇J with target rows against the host engine's");
        }
    }

    private static int[] Labels(Random random, int rows, int k) => Enumerable.Range(0, rows).Select(_ => random.Next(k)).ToArray();

    /// <summary>Rows whose class shifts its own band of features: a problem with a real optimum, not noise.</summary>
    internal static SparseSet Separable(Random random, int rows, int d, int k)
    {
        int[] labels = Labels(random, rows, k);
        SparseRows x = SparseTrainingTests.RandomRows(random, rows, d, 0.3);
        var values = (float[])x.Values.Clone();
        for (int r = 0; r < rows; r++)
            for (int e = x.RowStart[r]; e < x.RowStart[r + 1]; e++)
                if (x.Columns[e] % k == labels[r])
                    values[e] += 1.5f;
        return new SparseSet(new SparseRows(x.RowStart, x.Columns, values, d), labels);
    }

    /// <summary>μ: [D] each column's mean over every row (zeros included).</summary>
    private static double[] ColumnMeans(SparseRows x)
    {
        var mean = new double[x.Dim];
        for (long e = 0; e < x.NonZeros; e++)
            mean[x.Columns[e]] += x.Values[e] / (double)x.Rows;
        return mean;
    }
}

public sealed class CpuDeviceSparseObjectiveTests(CpuFixture fixture) : DeviceSparseObjectiveTests(fixture), IClassFixture<CpuFixture>;

public sealed class CudaDeviceSparseObjectiveTests(CudaFixture fixture) : DeviceSparseObjectiveTests(fixture), IClassFixture<CudaFixture>;

public sealed class OpenCLDeviceSparseObjectiveTests(OpenCLFixture fixture) : DeviceSparseObjectiveTests(fixture), IClassFixture<OpenCLFixture>;
