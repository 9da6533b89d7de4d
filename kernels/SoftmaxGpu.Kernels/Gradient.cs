using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>∂L/∂z of the batch-mean cross-entropy: G = (Q − Y) / B, one thread per element.</summary>
public sealed class Gradient
{
    private readonly Action<Index1D, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, float,
        ArrayView<float>> kernel;

    public Gradient(Accelerator accelerator)
    {
        kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>,
            ArrayView<float>, int, float, ArrayView<float>>(GradientKernel);
    }

    /// <summary>G[r, c] = (Q[r, c] − Y[r, c]) · invRows, where Y is one-hot of labels[r] or the soft row.</summary>
    /// <param name="index">Flat element index r·K + c.</param>
    /// <param name="q">Q: [B, K] probabilities.</param>
    /// <param name="labels">y: [B] class indices (used when <paramref name="targets"/> is empty).</param>
    /// <param name="targets">Y: [B, K] soft targets, or empty.</param>
    /// <param name="k">K.</param>
    /// <param name="invRows">1 / B.</param>
    /// <param name="g">G: [B, K], written; may alias <paramref name="q"/>.</param>
    public static void GradientKernel(Index1D index, ArrayView<float> q, ArrayView<int> labels,
        ArrayView<float> targets, int k, float invRows, ArrayView<float> g)
    {
        float y = targets.Length > 0
            ? targets[index]
            : labels[index / k] == index % k ? 1f : 0f;
        g[index] = (q[index] - y) * invRows;
    }

    /// <summary>G = (Q − Y) / rows over [rows, K].</summary>
    public void Launch(ArrayView<float> q, ArrayView<int> labels, ArrayView<float> targets, int rows, int k,
        ArrayView<float> g) =>
        kernel(rows * k, q, labels, targets, k, 1f / rows, g);
}
