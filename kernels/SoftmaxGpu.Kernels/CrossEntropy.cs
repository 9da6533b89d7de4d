using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// Cross-entropy of a batch from its logits and their log-sum-exp, reduced on the device together with the
/// number of correct argmax predictions. With lse_r = m_r + log s_r from the softmax kernel, hard labels give
/// loss_r = (m_r − z[r, y_r]) + log s_r; soft targets (a probability row per sample) give
/// loss_r = −Σ_c y_rc log q_rc = Σ_c y_rc ((m_r − z_rc) + log s_r), the same path. log q is never formed.
/// Groups take contiguous chunks of rows and write a partial (loss, correct) each; <see cref="PartialSum"/>
/// adds the partials in group order to the totals, so the result does not depend on timing.
/// </summary>
public sealed class CrossEntropy
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>,
        int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<int>> kernel;
    private readonly RowTotals totals;

    /// <param name="sum">The partial-sum kernel, shared with the rest of the kernel set.</param>
    public CrossEntropy(Accelerator accelerator, LaunchShape shape, PartialSum sum)
    {
        totals = new RowTotals(accelerator, shape, sum);
        kernel = shape.Portable
            ? accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>,
                ArrayView<float>, int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<int>>(CrossEntropyKernel<OpenCLVariant>)
            : accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>,
                ArrayView<float>, int, int, float, ArrayView<float>, ArrayView<float>, ArrayView<int>>(CrossEntropyKernel<WarpVariant>);
    }

    /// <summary>
    /// Group g takes the rows of its chunk; each thread sums its rows' losses and counts its correct
    /// predictions, two shared-memory reductions combine them, and thread 0 writes the group's
    /// (scale·Σloss, correct) to partials[g]. Summed into totals afterwards, a batch mean (scale = 1/B) or an
    /// epoch mean accumulated over batches (scale = 1/N) is read back with one copy.
    /// </summary>
    /// <param name="z">Z: [B, K] logits.</param>
    /// <param name="rowStats">[B, 2]: (m, log s) of each row, from the softmax kernel.</param>
    /// <param name="labels">y: [B] class indices (used when <paramref name="targets"/> is empty).</param>
    /// <param name="targets">Y: [B, K] soft targets, or empty for hard labels.</param>
    /// <param name="rows">B.</param>
    /// <param name="k">K.</param>
    /// <param name="scale">Factor applied to the loss sum.</param>
    /// <param name="partials">[groups, 2]: each group's (scale·Σloss, correct count), written.</param>
    /// <param name="loss">[2]: the compensated loss total (<see cref="Totals"/>), added to directly when the launch has a single group (no partials to sum).</param>
    /// <param name="correct">[1]: the correct count, likewise.</param>
    /// <typeparam name="TVariant">The backend's shared memory (see <see cref="IKernelVariant"/>).</typeparam>
    public static void CrossEntropyKernel<TVariant>(ArrayView<float> z, ArrayView<float> rowStats, ArrayView<int> labels,
        ArrayView<float> targets, int rows, int k, float scale, ArrayView<float> partials, ArrayView<float> loss,
        ArrayView<int> correct)
        where TVariant : struct, IKernelVariant
    {
        int tid = Group.IdxX;
        int threads = Group.DimX;
        ArrayView<float> scratch = default(TVariant).SharedFloats(LaunchShape.MaxReductionGroup); // [threads]
        bool soft = targets.Length > 0;
        RowTotals.GroupRows(rows, out int first, out int last);

        float threadLoss = 0f, lost = 0f; // compensated (Totals.Kahan)
        float rowsCorrect = 0f;
        for (int r = first + tid; r < last; r += threads)
        {
            float rowLoss = 0f;
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
                        rowLoss += yc * ((max - zc) + logSum);
                    if (yc > targets[row + truth])
                        truth = c;
                }
            }
            if (!soft)
                rowLoss += (max - z[row + truth]) + logSum;
            Totals.Kahan(ref threadLoss, ref lost, rowLoss);
            if (predicted == truth)
                rowsCorrect += 1f;
        }

        RowTotals.Write(scratch, threadLoss - lost, rowsCorrect, scale, partials, loss, correct);
    }

    /// <summary>Adds scale·Σ loss and the correct count of <paramref name="rows"/> rows to the totals.</summary>
    public void Launch(ArrayView<float> z, ArrayView<float> rowStats, ArrayView<int> labels,
        ArrayView<float> targets, int rows, int k, float scale, ArrayView<float> loss, ArrayView<int> correct)
    {
        KernelConfig config = totals.Config(rows);
        kernel(config, z, rowStats, labels, targets, rows, k, scale, totals.Partials, loss, correct);
        totals.Finish(config, loss, correct);
    }
}
