using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>Row-wise stable softmax: Q[r, :] = exp(Z[r, :] − m_r) / Σ_c exp(Z[r, c] − m_r), m_r = max Z[r, :].</summary>
public sealed class Softmax
{
    private readonly Action<KernelConfig, ArrayView<float>, int, int, ArrayView<float>, ArrayView<float>> kernel;
    private readonly LaunchShape shape;

    public Softmax(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        kernel = shape.Portable
            ? accelerator.LoadStreamKernel<ArrayView<float>, int, int, ArrayView<float>, ArrayView<float>>(SoftmaxKernel<OpenCLVariant>)
            : accelerator.LoadStreamKernel<ArrayView<float>, int, int, ArrayView<float>, ArrayView<float>>(SoftmaxKernel<WarpVariant>);
    }

    /// <summary>
    /// One group per row (groups stride over the rows). The threads stride over the K logits: a shared-memory max reduction gives
    /// m = max z, a sum reduction gives s = Σ exp(z − m) ∈ [1, K]: exp only sees non-positive numbers, so
    /// nothing overflows even for logits of 1e30. The row keeps m and log s apart (logsumexp = m + log s):
    /// at |m| = 1e30 a float cannot hold m + log s, yet the loss (m − z_y) + log s stays exact.
    /// </summary>
    /// <param name="z">Z: [B, K] logits.</param>
    /// <param name="rows">B.</param>
    /// <param name="k">K, classes per row.</param>
    /// <param name="q">Q: [B, K] probabilities, written.</param>
    /// <param name="rowStats">[B, 2]: (m, log s) of each row, written; the cross-entropy reuses them.</param>
    /// <typeparam name="TVariant">The backend's shared memory (see <see cref="IKernelVariant"/>).</typeparam>
    public static void SoftmaxKernel<TVariant>(ArrayView<float> z, int rows, int k, ArrayView<float> q, ArrayView<float> rowStats)
        where TVariant : struct, IKernelVariant
    {
        int tid = Group.IdxX;
        int threads = Group.DimX;
        ArrayView<float> scratch = default(TVariant).SharedFloats(LaunchShape.MaxReductionGroup); // [threads]
        for (int r = Grid.IdxX; r < rows; r += Grid.DimX) // whole groups stride over rows: barriers stay uniform
        {
            long row = (long)r * k;

            float localMax = float.NegativeInfinity;
            for (int c = tid; c < k; c += threads)
                localMax = MathF.Max(localMax, z[row + c]);
            float max = GroupReduce.Max(scratch, localMax);

            float localSum = 0f;
            for (int c = tid; c < k; c += threads)
                localSum += MathF.Exp(z[row + c] - max);
            float sum = GroupReduce.Sum(scratch, localSum);

            float inverse = 1f / sum;
            for (int c = tid; c < k; c += threads)
                q[row + c] = MathF.Exp(z[row + c] - max) * inverse;
            if (tid == 0)
            {
                rowStats[2 * r] = max;
                rowStats[2 * r + 1] = MathF.Log(sum);
            }
        }
    }

    /// <summary>Softmax of <paramref name="rows"/> rows of Z: [rows, K] into Q and lse.</summary>
    public void Launch(ArrayView<float> z, int rows, int k, ArrayView<float> q, ArrayView<float> rowStats)
    {
        int threads = shape.RowGroup(k);
        kernel(shape.GridStride((long)rows * threads, threads, shape.Shared(threads, LaunchShape.MaxReductionGroup)),
            z, rows, k, q, rowStats);
    }
}
