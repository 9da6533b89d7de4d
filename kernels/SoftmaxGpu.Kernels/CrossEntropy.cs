using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// Cross-entropy of a batch from its logits and their log-sum-exp, reduced on the device together with the
/// number of correct argmax predictions. With lse_r = m_r + log s_r from the softmax kernel, hard labels give
/// loss_r = (m_r − z[r, y_r]) + log s_r; soft targets (a probability row per sample) give
/// loss_r = −Σ_c y_rc log q_rc = Σ_c y_rc ((m_r − z_rc) + log s_r), the same path. log q is never formed.
/// </summary>
public sealed class CrossEntropy
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>,
        int, int, float, ArrayView<float>> kernel;
    private readonly LaunchShape shape;

    public CrossEntropy(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        kernel = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>,
            ArrayView<float>, int, int, float, ArrayView<float>>(CrossEntropyKernel);
    }

    /// <summary>
    /// A single group strides over the rows; each thread sums its rows' losses and counts its correct
    /// predictions, then two shared-memory reductions combine them. Thread 0 adds
    /// scale·Σloss to totals[0] and the correct count to totals[1], so a batch mean (scale = 1/B) or an
    /// epoch mean accumulated over batches (scale = 1/N) is read back with one copy.
    /// </summary>
    /// <param name="z">Z: [B, K] logits.</param>
    /// <param name="rowStats">[B, 2]: (m, log s) of each row, from the softmax kernel.</param>
    /// <param name="labels">y: [B] class indices (used when <paramref name="targets"/> is empty).</param>
    /// <param name="targets">Y: [B, K] soft targets, or empty for hard labels.</param>
    /// <param name="rows">B.</param>
    /// <param name="k">K.</param>
    /// <param name="scale">Factor applied to the loss sum before it is added.</param>
    /// <param name="totals">[2]: loss accumulator, correct-prediction accumulator; added to.</param>
    public static void CrossEntropyKernel(ArrayView<float> z, ArrayView<float> rowStats, ArrayView<int> labels,
        ArrayView<float> targets, int rows, int k, float scale, ArrayView<float> totals)
    {
        int tid = Group.IdxX;
        int threads = Group.DimX;
        ArrayView<float> scratch = SharedMemory.GetDynamic<float>(); // [threads]
        bool soft = targets.Length > 0;

        float loss = 0f;
        float correct = 0f;
        for (int r = tid; r < rows; r += threads)
        {
            long row = (long)r * k;
            float max = rowStats[2 * r];
            float logSum = rowStats[2 * r + 1];
            int predicted = 0;
            int truth = soft ? 0 : labels[r];
            for (int c = 0; c < k; c++)
            {
                float zc = z[row + c];
                if (zc > z[row + predicted])
                    predicted = c;
                if (soft)
                {
                    float yc = targets[row + c];
                    if (yc > 0f) // skip zeros: 0 · ∞ would be NaN when m − z overflows
                        loss += yc * ((max - zc) + logSum);
                    if (yc > targets[row + truth])
                        truth = c;
                }
            }
            if (!soft)
                loss += (max - z[row + truth]) + logSum;
            if (predicted == truth)
                correct += 1f;
        }

        float lossSum = GroupReduce.Sum(scratch, loss);
        float correctSum = GroupReduce.Sum(scratch, correct);
        if (tid == 0)
        {
            totals[0] += scale * lossSum;
            totals[1] += correctSum;
        }
    }

    /// <summary>Adds scale·Σ loss and the correct count of <paramref name="rows"/> rows to totals.</summary>
    public void Launch(ArrayView<float> z, ArrayView<float> rowStats, ArrayView<int> labels,
        ArrayView<float> targets, int rows, int k, float scale, ArrayView<float> totals)
    {
        int threads = shape.ReductionGroup;
        kernel(new KernelConfig(1, threads, SharedMemoryConfig.RequestDynamic<float>(threads)),
            z, rowStats, labels, targets, rows, k, scale, totals);
    }
}
