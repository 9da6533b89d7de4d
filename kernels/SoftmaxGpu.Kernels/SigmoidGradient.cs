using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// ∂/∂z of the binary cross-entropy with logits, per tag: σ(z) − y, scaled (1/B for a batch mean). Unlike the
/// softmax's (Σ_c y_c)·q − y, every tag is its own two-class problem, so nothing couples the tags of a row.
/// </summary>
public sealed class SigmoidGradient
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, float, ArrayView<float>> kernel;
    private readonly LaunchShape shape;

    public SigmoidGradient(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        kernel = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, float, ArrayView<float>>(
            SigmoidGradientKernel);
    }

    /// <summary>G[i] = (Q[i] − Y[i])·scale, grid-stride over the B·K elements.</summary>
    /// <param name="q">Q: [B, K] tag probabilities σ(Z).</param>
    /// <param name="targets">Y: [B, K] tag targets.</param>
    /// <param name="count">B·K.</param>
    /// <param name="scale">1/B for the batch mean (1/N for one block of a batch of N rows).</param>
    /// <param name="g">G: [B, K], written; may alias <paramref name="q"/>.</param>
    public static void SigmoidGradientKernel(ArrayView<float> q, ArrayView<float> targets, int count, float scale,
        ArrayView<float> g)
    {
        int stride = Grid.DimX * Group.DimX;
        for (int i = Grid.GlobalIndex.X; i < count; i += stride)
            g[i] = (q[i] - targets[i]) * scale;
    }

    public void Launch(ArrayView<float> q, ArrayView<float> targets, int rows, int k, float scale, ArrayView<float> g) =>
        kernel(shape.GridStride((long)rows * k, shape.ElementGroup), q, targets, rows * k, scale, g);
}
