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
        foreach (float lambda in new[] { 1f, 0.1f, 0.01f, 0.001f }) // strongest penalty first, as a path runs
        {
            TrainResult warm = session.Fit(options with { WeightDecay = lambda, InitialTheta = start });
            TrainResult cold = Trainer.Train(gpu, iris, null, k, options with { WeightDecay = lambda });
            Assert.True(warm.Converged && cold.Converged, $"λ {lambda}: {warm.StopReason} / {cold.StopReason}");
            Check.Close(cold.Objective!.Value, warm.Objective!.Value, 0, 1e-6, $"J at λ = {lambda}, warm vs single fit");
            // The warm fit starts from the last λ's model: after one iteration it is nearer the optimum than a fit from
            // zeros. (Iterations are not the measure on 15 parameters: every L-BFGS fit takes m + 3 = 13 before its
            // stall rule may stop it, and learns its diagonal H₀ anew; on letter the path's warm starts saved 15%.)
            if (start is not null)
                Assert.True(warm.History[0].Objective < cold.History[0].Objective,
                    $"λ {lambda}: after one iteration warm J {warm.History[0].Objective}, from zeros {cold.History[0].Objective}");
            start = warm.Theta;
        }
        Assert.Same(uploaded, session.Data);

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
