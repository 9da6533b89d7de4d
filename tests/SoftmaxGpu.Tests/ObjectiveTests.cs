using SoftmaxGpu.Devices;
using SoftmaxGpu.Tests.Reference;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>The objective every optimizer consumes (mean loss + L2 on the W block of θ) against the float64 reference.</summary>
public abstract class ObjectiveTests(AcceleratorFixture fixture)
{
    [Theory]
    [InlineData(37, 13, 5, 1.0)]   // awkward sizes, logits of order 1
    [InlineData(61, 7, 3, 1e4)]    // huge logits: the loss is linear in them, nothing overflows
    public void TheObjectiveIsTheReferenceObjectiveStreamedOrNot(int n, int d, int k, double scale)
    {
        Gpu gpu = fixture.Gpu();
        var random = new Random(n);
        double[] x = Check.AsDevice(Check.Normal(random, n * d));
        int[] labels = Enumerable.Range(0, n).Select(_ => random.Next(k)).ToArray();
        double[] theta = Check.AsDevice(Check.Normal(random, k * d + k, scale));
        const double lambda = 0.03;
        (double j, double[] gradient) = ReferenceMath.ObjectiveAndGradient(theta, x, labels, null, n, d, k, lambda);

        var set = new EncodedSet(Check.ToFloat(x), labels, null, n, d);
        foreach (int blockRows in new[] { n, 10 })
        {
            var options = new TrainOptions { Optimizer = "lbfgs", WeightDecay = (float)lambda, StreamBlockRows = blockRows };
            TrainPlan plan = TrainPlan.Resolve(options, gpu.Accelerator.MemorySize, n, d, k, 0);
            using TrainingData data = TrainingData.Streamed(gpu.Accelerator, set, plan.BlockRows);
            using var engine = new GradientEngine(gpu, SoftmaxCrossEntropy.Instance, d, k, plan.EngineRows);
            var objective = Objective.For(engine, data, plan);
            Assert.Equal(ParameterLayout.Weights, objective.L2.Block.Name);
            Assert.Equal(k * d, objective.L2.Block.Length);
            (double got, double[] grad, _, _) = objective.Evaluate(theta);
            Check.Close(j, got, 1e-6, 1e-5, $"J, blocks of {blockRows}");
            Check.Close(gradient, grad, 1e-6, 1e-4, $"∇J, blocks of {blockRows}");
        }
    }

}

public sealed class CpuObjectiveTests(CpuFixture fixture) : ObjectiveTests(fixture), IClassFixture<CpuFixture>;

public sealed class HostObjectiveTests(HostFixture fixture) : ObjectiveTests(fixture), IClassFixture<HostFixture>;

public sealed class CudaObjectiveTests(CudaFixture fixture) : ObjectiveTests(fixture), IClassFixture<CudaFixture>;

public sealed class OpenCLObjectiveTests(OpenCLFixture fixture) : ObjectiveTests(fixture), IClassFixture<OpenCLFixture>;

/// <summary>θ's named blocks (no device).</summary>
public sealed class ParameterLayoutTests
{
    [Fact]
    public void TheLinearLayoutNamesWeightsThenBiases()
    {
        ParameterLayout layout = ParameterLayout.Linear(3, 2);
        Assert.Equal(9, layout.Length);
        float[] theta = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        Assert.Equal([1f, 2, 3, 4, 5, 6], layout.Slice(theta, ParameterLayout.Weights));
        Assert.Equal([7f, 8, 9], layout.Slice(theta, ParameterLayout.Bias));
        Assert.Equal([3, 2], layout[ParameterLayout.Weights].Shape);
        Assert.Contains("has no block 'V'", Assert.Throws<ArgumentException>(() => layout["V"]).Message);
    }
}
