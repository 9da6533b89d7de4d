using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>Registers the test optimizers once per process, whichever test asks first.</summary>
public static class TestOptimizers
{
    private static readonly Lazy<OptimizerEntry> Entry = new(() =>
    {
        var entry = new OptimizerEntry("test-gd", "plain gradient descent (a test's optimizer)", FullBatch: false,
            Optimizers.MiniBatchEpochs, context => new GradientDescentOptimizer(context));
        Optimizers.Register(entry);
        return entry;
    });

    public static OptimizerEntry GradientDescent => Entry.Value;
}
