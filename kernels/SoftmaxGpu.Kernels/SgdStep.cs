using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>SGD with momentum (heavy-ball or Nesterov) and L2 weight decay, grid-stride over the parameters.</summary>
public sealed class SgdStep
{
    private readonly Action<KernelConfig, ArrayView<float>, SgdParameters, ArrayView<float>, ArrayView<float>> kernel;

    private readonly LaunchShape shape;

    public SgdStep(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        kernel = accelerator.LoadStreamKernel<ArrayView<float>, SgdParameters,
            ArrayView<float>, ArrayView<float>>(SgdStepKernel);
    }

    /// <summary>
    /// g = ∇ + λ·θ (W only: the objective is mean CE + (λ/2)‖W‖²); v = μ·v + g;
    /// θ −= η·(g + μ·v) with Nesterov, θ −= η·v without. μ = 0 is plain SGD.
    /// </summary>
    /// <param name="grad">∇: [K·D + K] gradient of the mean cross-entropy.</param>
    /// <param name="p">Step hyper-parameters.</param>
    /// <param name="velocity">v: [K·D + K], updated.</param>
    /// <param name="theta">θ = [W | b], updated.</param>
    public static void SgdStepKernel(ArrayView<float> grad, SgdParameters p, ArrayView<float> velocity,
        ArrayView<float> theta)
    {
        int stride = Grid.DimX * Group.DimX;
        for (int i = Grid.GlobalIndex.X; i < theta.Length; i += stride)
        {
            float g = grad[i];
            if (i < p.Penalized)
                g += p.WeightDecay * theta[i];
            float v = p.Momentum * velocity[i] + g;
            velocity[i] = v;
            theta[i] -= p.LearningRate * (p.Nesterov != 0 ? g + p.Momentum * v : v);
        }
    }

    public void Launch(ArrayView<float> grad, SgdParameters p, ArrayView<float> velocity, ArrayView<float> theta) =>
        kernel(shape.GridStride(theta.Length, shape.ElementGroup), grad, p, velocity, theta);
}
