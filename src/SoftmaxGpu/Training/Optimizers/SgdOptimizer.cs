using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Training;

/// <summary>SGD with (optionally Nesterov) momentum and L2 weight decay on W; the velocity lives on the device.</summary>
public sealed class SgdOptimizer : MiniBatchOptimizer
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> velocity;

    public SgdOptimizer(OptimizerContext context) : base(context)
    {
        velocity = context.Gpu.Accelerator.Allocate1D<float>(Engine.Theta.Length);
        velocity.MemSetToZero();
    }

    protected override void Step(float learningRate, long step) =>
        Kernels.Sgd.Launch(Engine.Grad, new SgdParameters(learningRate, Context.Options.Momentum, WeightDecay,
            Context.Options.Nesterov, Penalized), velocity.View, Engine.Theta);

    public override void Dispose()
    {
        velocity.Dispose();
        base.Dispose();
    }
}
