using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// The multi-label forward pass: each class (tag) is its own yes/no question with probability q = σ(z), and the
/// row's loss is the sum over its K tags of the binary cross-entropy with logits (PyTorch's BCEWithLogitsLoss):
/// loss_rc = max(z, 0) − z·y + log(1 + exp(−|z|)), exact for |z| up to 1e30 (no log of σ is ever formed, and
/// exp(−|z|) never overflows). A row is correct when every tag's decision, z ≥ 0 (σ(z) ≥ 0.5), equals its target
/// (y ≥ 0.5): the subset accuracy. Groups take contiguous chunks of rows and write a partial (loss, correct) each,
/// added in group order by <see cref="PartialSum"/>, as <see cref="CrossEntropy"/> does.
/// </summary>
public sealed class BinaryCrossEntropy
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, int, int, float, ArrayView<float>,
        ArrayView<float>, ArrayView<float>, ArrayView<int>> kernel;
    private readonly RowTotals totals;

    public BinaryCrossEntropy(Accelerator accelerator, LaunchShape shape, PartialSum sum)
    {
        totals = new RowTotals(accelerator, shape, sum);
        kernel = shape.Portable
            ? accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, float, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<int>>(BinaryCrossEntropyKernel<OpenCLVariant>)
            : accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, int, int, float, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<int>>(BinaryCrossEntropyKernel<WarpVariant>);
    }

    /// <summary>
    /// Q = σ(Z); where targets are given, each thread sums its rows' losses (Kahan-compensated) and counts its
    /// rows with every tag right, two shared-memory reductions combine them, and thread 0 writes the group's
    /// (scale·Σ loss, correct) to partials[g] (or adds it to the totals when the launch has one group).
    /// </summary>
    /// <param name="z">Z: [B, K] logits.</param>
    /// <param name="targets">Y: [B, K] tag targets in [0, 1], or empty (prediction: Q only).</param>
    /// <param name="rows">B.</param>
    /// <param name="k">K tags.</param>
    /// <param name="scale">Factor applied to the loss sum.</param>
    /// <param name="q">Q: [B, K] tag probabilities, written.</param>
    /// <param name="partials">[groups, 2], written.</param>
    /// <param name="loss">[2]: the compensated loss total (<see cref="Totals"/>).</param>
    /// <param name="correct">[1]: rows with every tag right.</param>
    /// <typeparam name="TVariant">The backend's shared memory (see <see cref="IKernelVariant"/>).</typeparam>
    public static void BinaryCrossEntropyKernel<TVariant>(ArrayView<float> z, ArrayView<float> targets, int rows, int k,
        float scale, ArrayView<float> q, ArrayView<float> partials, ArrayView<float> loss, ArrayView<int> correct)
        where TVariant : struct, IKernelVariant
    {
        int tid = Group.IdxX;
        int threads = Group.DimX;
        ArrayView<float> scratch = default(TVariant).SharedFloats(LaunchShape.MaxReductionGroup); // [threads]
        bool withLoss = targets.Length > 0;
        RowTotals.GroupRows(rows, out int first, out int last);

        float threadLoss = 0f, lost = 0f; // compensated (Totals.Kahan)
        float rowsCorrect = 0f;
        for (int r = first + tid; r < last; r += threads)
        {
            long row = (long)r * k;
            float rowLoss = 0f;
            bool allRight = true;
            for (int c = 0; c < k; c++)
            {
                float zc = z[row + c];
                float yc = withLoss ? targets[row + c] : 0f;
                q[row + c] = Tag(zc, yc, out float tagLoss);
                rowLoss += tagLoss;
                allRight &= (zc >= 0f) == (yc >= 0.5f);
            }
            if (withLoss)
            {
                Totals.Kahan(ref threadLoss, ref lost, rowLoss);
                rowsCorrect += allRight ? 1f : 0f;
            }
        }

        RowTotals.Write(scratch, threadLoss - lost, rowsCorrect, scale, partials, loss, correct);
    }

    /// <summary>
    /// One tag: returns σ(z), and its binary cross-entropy with logits max(z, 0) − z·y + log(1 + exp(−|z|)) in
    /// <paramref name="loss"/>. exp(−|z|) is in (0, 1], so nothing overflows; σ is never taken a log of.
    /// Every engine's multi-label arithmetic (this kernel, the fused pass, the host engine) is this function.
    /// </summary>
    public static float Tag(float z, float y, out float loss)
    {
        float e = MathF.Exp(-MathF.Abs(z));
        float sigmoidAbs = 1f / (1f + e); // σ(|z|)
        loss = (Math.Max(z, 0f) - z * y) + Log1P(e);
        return z >= 0f ? sigmoidAbs : e * sigmoidAbs;
    }

    /// <summary>
    /// log(1 + x) for x in [0, 1], accurate where x is tiny (where log of the rounded 1 + x would give 0): the
    /// rounding of u = 1 + x is undone by scaling with x / (u − 1).
    /// </summary>
    public static float Log1P(float x)
    {
        float u = 1f + x;
        return u == 1f ? x : MathF.Log(u) * (x / (u - 1f));
    }

    /// <summary>Q = σ(Z) over [rows, K]; with targets, adds scale·Σ loss and the subset-correct count to the totals.</summary>
    public void Launch(ArrayView<float> z, ArrayView<float> targets, int rows, int k, float scale, ArrayView<float> q,
        ArrayView<float> loss, ArrayView<int> correct)
    {
        KernelConfig config = totals.Config(rows);
        kernel(config, z, targets, rows, k, scale, q, totals.Partials, loss, correct);
        totals.Finish(config, loss, correct);
    }
}
