using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// ∂L/∂z of the batch-mean cross-entropy: G = ((Σ_c Y[r, c])·Q − Y) / B, grid-stride over the elements. For a label
/// or a probability row Σ_c Y = 1 and G = (Q − Y) / B; weighted targets (a row's weight times its probabilities) have
/// any mass, and ∂(−Σ_c y_c log q_c)/∂z = (Σ_c y_c)·q − y.
/// </summary>
public sealed class Gradient
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, float,
        ArrayView<float>> kernel;
    private readonly LaunchShape shape;

    public Gradient(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        kernel = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>,
            ArrayView<float>, int, int, float, ArrayView<float>>(GradientKernel);
    }

    /// <summary>
    /// G[r, c] = (m_r·Q[r, c] − Y[r, c]) · invRows, where Y is one-hot of labels[r] (m_r = 1) or the soft row, whose
    /// mass m_r = Σ_c Y[r, c] each thread sums for itself: K cached reads per element, on the soft path only.
    /// </summary>
    /// <param name="q">Q: [B, K] probabilities.</param>
    /// <param name="labels">y: [B] class indices (used when <paramref name="targets"/> is empty).</param>
    /// <param name="targets">Y: [B, K] soft targets, or empty.</param>
    /// <param name="count">B·K elements.</param>
    /// <param name="k">K.</param>
    /// <param name="invRows">1 / B.</param>
    /// <param name="g">G: [B, K], written; may alias <paramref name="q"/>.</param>
    public static void GradientKernel(ArrayView<float> q, ArrayView<int> labels, ArrayView<float> targets,
        int count, int k, float invRows, ArrayView<float> g)
    {
        int stride = Grid.DimX * Group.DimX;
        for (int i = Grid.GlobalIndex.X; i < count; i += stride)
        {
            int r = i / k;
            float y, mass = 1f;
            if (targets.Length > 0)
            {
                y = targets[i];
                mass = 0f;
                for (long c = (long)r * k; c < (long)r * k + k; c++)
                    mass += targets[c];
            }
            else
            {
                y = labels[r] == i - r * k ? 1f : 0f;
            }
            g[i] = (q[i] * mass - y) * invRows;
        }
    }

    /// <summary>G = (m·Q − Y) / rows over [rows, K] (m: each row's target mass, 1 for labels).</summary>
    public void Launch(ArrayView<float> q, ArrayView<int> labels, ArrayView<float> targets, int rows, int k,
        ArrayView<float> g) =>
        Launch(q, labels, targets, rows, k, 1f / rows, g);

    /// <summary>G = (m·Q − Y)·scale over [rows, K]: scale 1/N when a batch is one block of N rows.</summary>
    public void Launch(ArrayView<float> q, ArrayView<int> labels, ArrayView<float> targets, int rows, int k, float scale,
        ArrayView<float> g) =>
        kernel(shape.GridStride((long)rows * k, shape.ElementGroup), q, labels, targets, rows * k, k, scale, g);
}
