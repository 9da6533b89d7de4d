using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Training;

/// <summary>Adam (Kingma and Ba) with L2 weight decay on W: first and second moments kept on the device.</summary>
public sealed class AdamOptimizer : MiniBatchOptimizer
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense> moment1;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> moment2;

    public AdamOptimizer(OptimizerContext context) : base(context)
    {
        moment1 = context.Gpu.Accelerator.Allocate1D<float>(Engine.Theta.Length);
        moment2 = context.Gpu.Accelerator.Allocate1D<float>(Engine.Theta.Length);
        moment1.MemSetToZero();
        moment2.MemSetToZero();
    }

    protected override void Step(float learningRate, long step) =>
        Kernels.Adam.Launch(Engine.Grad, new AdamParameters(learningRate, TrainOptions.AdamBeta1, TrainOptions.AdamBeta2,
            TrainOptions.AdamEpsilon, WeightDecay, step, Penalized), moment1.View, moment2.View, Engine.Theta);

    public override void Dispose()
    {
        moment1.Dispose();
        moment2.Dispose();
        base.Dispose();
    }
}
