using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>Adam (Kingma and Ba) with L2 weight decay added to the gradient, grid-stride over the parameters.</summary>
public sealed class AdamStep
{
    private readonly Action<KernelConfig, ArrayView<float>, AdamParameters, ArrayView<float>, ArrayView<float>,
        ArrayView<float>> kernel;

    private readonly LaunchShape shape;

    public AdamStep(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        kernel = accelerator.LoadStreamKernel<ArrayView<float>, AdamParameters,
            ArrayView<float>, ArrayView<float>, ArrayView<float>>(AdamStepKernel);
    }

    /// <summary>
    /// g = ∇ + λ·θ (W only); m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
    /// θ −= η · (m / (1−β1^t)) / (√(v / (1−β2^t)) + ε).
    /// </summary>
    /// <param name="grad">∇: [K·D + K].</param>
    /// <param name="p">Step hyper-parameters.</param>
    /// <param name="m">First moment, updated.</param>
    /// <param name="v">Second moment, updated.</param>
    /// <param name="theta">θ = [W | b], updated.</param>
    public static void AdamStepKernel(ArrayView<float> grad, AdamParameters p, ArrayView<float> m,
        ArrayView<float> v, ArrayView<float> theta)
    {
        int stride = Grid.DimX * Group.DimX;
        for (int i = Grid.GlobalIndex.X; i < theta.Length; i += stride)
        {
            float g = grad[i];
            if (i < p.Penalized)
                g += p.WeightDecay * theta[i];
            float mi = p.Beta1 * m[i] + (1f - p.Beta1) * g;
            float vi = p.Beta2 * v[i] + (1f - p.Beta2) * g * g;
            m[i] = mi;
            v[i] = vi;
            theta[i] -= p.LearningRate * (mi / p.Correction1) / (MathF.Sqrt(vi / p.Correction2) + p.Epsilon);
        }
    }

    public void Launch(ArrayView<float> grad, AdamParameters p, ArrayView<float> m, ArrayView<float> v,
        ArrayView<float> theta) =>
        kernel(shape.GridStride(theta.Length, shape.ElementGroup), grad, p, m, v, theta);
}
