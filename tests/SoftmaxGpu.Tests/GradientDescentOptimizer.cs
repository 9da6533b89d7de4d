using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// An optimizer that exists only in the tests, to show what adding one takes: its type (a mini-batch update)
/// and one row in the table. Plain gradient descent, θ ← θ − η·(∇ + λW), through the SGD kernel with no momentum.
/// </summary>
public sealed class GradientDescentOptimizer : MiniBatchOptimizer
{
    // The SGD kernel's velocity; with μ = 0 it only ever holds the last step's gradient (zeroed: 0·NaN is NaN).
    private readonly MemoryBuffer1D<float, Stride1D.Dense> scratch;

    public GradientDescentOptimizer(OptimizerContext context) : base(context)
    {
        scratch = context.Gpu.Accelerator.Allocate1D<float>(Engine.Theta.Length);
        scratch.MemSetToZero();
    }

    protected override void Step(float learningRate, long step) =>
        Kernels.Sgd.Launch(Engine.Grad, new SgdParameters(learningRate, 0f, WeightDecay, false, Penalized),
            scratch.View, Engine.Theta);

    public override void Dispose()
    {
        scratch.Dispose();
        base.Dispose();
    }
}
