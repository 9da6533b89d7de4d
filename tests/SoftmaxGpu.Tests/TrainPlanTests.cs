using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>How options resolve against the data and the device: no accelerator needed.</summary>
public sealed class TrainPlanTests
{
    private const long Plenty = 1L << 34;

    [Fact]
    public void DefaultsAreLbfgsAtScikitLearnsC1()
    {
        TrainPlan plan = TrainPlan.Resolve(new TrainOptions(), Plenty, 150, 4, 3, 0);
        Assert.Same(Optimizers.Lbfgs, plan.Optimizer);
        Assert.Equal(1.0 / 150, plan.WeightDecay);
        Assert.Equal(150, plan.BatchRows);
        Assert.Equal(LbfgsOptimizer.DefaultIterations, plan.Epochs);
        Assert.Equal(1.0 / (4 * 150), TrainPlan.Resolve(new TrainOptions { C = 4 }, Plenty, 150, 4, 3, 0).WeightDecay);
        Assert.Equal(0.5, TrainPlan.Resolve(new TrainOptions { WeightDecay = 0.5f }, Plenty, 150, 4, 3, 0).WeightDecay);
    }

    [Fact]
    public void AutoTakesAdamWhereTheFullBatchDoesNotFitTheDevice()
    {
        long need = TrainPlan.FullBatchBytes(100000, 784, 10, 0);
        TrainPlan fits = TrainPlan.Resolve(new TrainOptions(), (long)(need / TrainPlan.DeviceMemoryShare) + 1, 100000, 784, 10, 0);
        TrainPlan tooBig = TrainPlan.Resolve(new TrainOptions(), need, 100000, 784, 10, 0);
        Assert.Same(Optimizers.Lbfgs, fits.Optimizer);
        Assert.Same(Optimizers.Adam, tooBig.Optimizer);
        Assert.Contains("more than", tooBig.Why);
        Assert.Equal(TrainOptions.DefaultBatchSize, tooBig.BatchRows);
        Assert.Equal(Optimizers.MiniBatchEpochs(100000, TrainOptions.DefaultBatchSize), tooBig.Epochs);
    }

    [Fact]
    public void AutoTakesAdamWhenMiniBatchOptionsAreGiven()
    {
        foreach (var options in new[] { new TrainOptions { BatchSize = 32 }, new TrainOptions { LearningRate = 0.1f }, new TrainOptions { Patience = 3 } })
        {
            TrainPlan plan = TrainPlan.Resolve(options, Plenty, 150, 4, 3, 0);
            Assert.Same(Optimizers.Adam, plan.Optimizer);
            Assert.Contains("mini-batch options", plan.Why);
        }
    }

    [Theory]
    [InlineData("lbfgs", 1000)]
    [InlineData("adam", 10)]  // 3 batches of 64 rows an epoch: 2000 updates would be 667 epochs, but --epochs wins
    public void EpochsGivenOverrideTheOptimizersDefault(string optimizer, int epochs)
    {
        TrainPlan plan = TrainPlan.Resolve(new TrainOptions { Optimizer = optimizer, Epochs = epochs }, Plenty, 150, 4, 3, 0);
        Assert.Equal(epochs, plan.Epochs);
    }

    [Fact]
    public void SetsThatDoNotFitTheDeviceMemoryStreamInWholeBatches()
    {
        var options = new TrainOptions { Optimizer = "adam", BatchSize = 64, DeviceMemory = 1 << 20 };
        TrainPlan plan = TrainPlan.Resolve(options, Plenty, 100000, 784, 10, 0);
        Assert.True(plan.Streamed);
        Assert.Equal(0, plan.BlockRows % 64);
        long rowBytes = 4L * (784 + 1);
        Assert.True(2 * rowBytes * plan.BlockRows <= options.DeviceMemory, $"{plan.BlockRows} rows per block");
        Assert.False(TrainPlan.Resolve(options with { DeviceMemory = 1L << 32 }, Plenty, 100000, 784, 10, 0).Streamed);
        Assert.Equal(1, TrainPlan.Resolve(options with { DeviceMemory = 1 }, Plenty, 1000, 784, 10, 0).BlockRows);
    }

    [Fact]
    public void WeightDecayAndCTogetherAreRejected()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            TrainPlan.Resolve(new TrainOptions { WeightDecay = 0.1f, C = 1 }, Plenty, 150, 4, 3, 0));
        Assert.Contains("give --weight-decay or --C, not both", error.Message);
    }
}
