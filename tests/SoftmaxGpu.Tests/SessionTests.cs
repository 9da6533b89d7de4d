using SoftmaxGpu.Devices;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>A session uploads the data once and fits it many times: a warm-started path over λ reaches each single fit's optimum.</summary>
public abstract class SessionTests(AcceleratorFixture fixture)
{
    [Fact]
    public void AWarmStartedPathOverLambdaReachesEachSingleFitsOptimum()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = TrainingTests.Iris();
        var options = new TrainOptions { Optimizer = "lbfgs" };
        using var session = new TrainingSession(gpu, iris, null, k, options);
        TrainingData uploaded = session.Data;
        float[]? start = null;
        int warmIterations = 0, coldIterations = 0;
        foreach (float lambda in new[] { 1f, 0.1f, 0.01f, 0.001f }) // strongest penalty first, as a path runs
        {
            TrainResult warm = session.Fit(options with { WeightDecay = lambda, InitialTheta = start });
            TrainResult cold = Trainer.Train(gpu, iris, null, k, options with { WeightDecay = lambda });
            Assert.True(warm.Converged && cold.Converged, $"λ {lambda}: {warm.StopReason} / {cold.StopReason}");
            Check.Close(cold.Objective!.Value, warm.Objective!.Value, 0, 1e-6, $"J at λ = {lambda}, warm vs single fit");
            (start, warmIterations, coldIterations) = (warm.Theta, warmIterations + warm.History.Count, coldIterations + cold.History.Count);
        }
        Assert.Same(uploaded, session.Data);
        Assert.True(warmIterations < coldIterations, $"warm starts took {warmIterations} iterations, single fits {coldIterations}");

        // A fit from zeros again is the single fit, bit for bit: nothing of the path stays in the session.
        Assert.Equal(Trainer.Train(gpu, iris, null, k, options with { WeightDecay = 0.1f }).Theta,
            session.Fit(options with { WeightDecay = 0.1f }).Theta);
    }

    [Fact]
    public void AFitThatNeedsAnotherLayoutIsAnError()
    {
        Gpu gpu = fixture.Gpu();
        (EncodedSet iris, int k) = TrainingTests.Iris();
        var options = new TrainOptions { Optimizer = "adam", BatchSize = 32, Epochs = 2 };
        using var session = new TrainingSession(gpu, iris, null, k, options);
        session.Fit(options with { LearningRate = 0.01f }); // a learning rate is not part of the layout
        var error = Assert.Throws<ArgumentException>(() => session.Fit(options with { BatchSize = 16 }));
        Assert.Contains("open a new session", error.Message);
    }
}

public sealed class CpuSessionTests(CpuFixture fixture) : SessionTests(fixture), IClassFixture<CpuFixture>;

public sealed class HostSessionTests(HostFixture fixture) : SessionTests(fixture), IClassFixture<HostFixture>;

public sealed class CudaSessionTests(CudaFixture fixture) : SessionTests(fixture), IClassFixture<CudaFixture>;

public sealed class OpenCLSessionTests(OpenCLFixture fixture) : SessionTests(fixture), IClassFixture<OpenCLFixture>;
