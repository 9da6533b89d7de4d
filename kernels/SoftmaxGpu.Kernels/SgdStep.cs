using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>Hyper-parameters of one SGD step, passed to the kernel by value.</summary>
public readonly struct SgdParameters
{
    public readonly float LearningRate;
    public readonly float Momentum;
    public readonly float WeightDecay;
    /// <summary>1 for Nesterov momentum, 0 for heavy-ball (an int: kernel arguments stay blittable).</summary>
    public readonly int Nesterov;
    /// <summary>Entries [0, Penalized) of theta get weight decay: W, not b.</summary>
    public readonly int Penalized;

    public SgdParameters(float learningRate, float momentum, float weightDecay, bool nesterov, int penalized)
    {
        LearningRate = learningRate;
        Momentum = momentum;
        WeightDecay = weightDecay;
        Nesterov = nesterov ? 1 : 0;
        Penalized = penalized;
    }
}

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
