using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// A head's kernels on one accelerator: the forward pass (outputs, loss, hits) and the gradient of a block of
/// rows, one thread per row, and the fused single-pass gradient (<see cref="FusedStep"/>) with the head compiled
/// in. A new head brings no kernel of its own: these are instantiated for it (fetched with <see cref="KernelSet.Get{T}"/>).
/// </summary>
/// <typeparam name="THead">The head (<see cref="IHead"/>).</typeparam>
public sealed class HeadKernels<THead> where THead : struct, IHead
{
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, float,
        ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>> forward;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, float,
        ArrayView<float>> gradient;
    private readonly RowTotals totals;
    private readonly LaunchShape shape;

    public HeadKernels(Accelerator accelerator, LaunchShape shape, PartialSum sum)
    {
        this.shape = shape;
        totals = new RowTotals(accelerator, shape, sum);
        forward = shape.Portable
            ? accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, float,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>(ForwardKernel<OpenCLVariant>)
            : accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, float,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>(ForwardKernel<WarpVariant>);
        gradient = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<int>, ArrayView<float>, int, int, float,
            ArrayView<float>>(GradientKernel);
        Fused = FusedStep.For<THead>(accelerator, shape);
    }

    /// <summary>The single-pass gradient with this head's row step.</summary>
    public FusedStep Fused { get; }

    /// <summary>
    /// Q = the head's outputs of Z, one thread per row in the group's chunk of rows; where labels or targets are
    /// given, each thread sums its rows' losses (Kahan-compensated) and hits, and the group's (scale·Σ loss, hits)
    /// goes to its partial (<see cref="RowTotals"/>).
    /// </summary>
    /// <param name="z">Z: [B, K] logits.</param>
    /// <param name="labels">y: [B] class indices, or empty.</param>
    /// <param name="targets">Y: [B, K] target rows, or empty.</param>
    /// <param name="rows">B.</param>
    /// <param name="k">K.</param>
    /// <param name="scale">Factor applied to the loss sum.</param>
    /// <param name="q">Q: [B, K], written.</param>
    /// <param name="partials">[groups, 2], written.</param>
    /// <param name="loss">[2]: the compensated loss total (<see cref="Totals"/>).</param>
    /// <param name="correct">[1]: the count of rows right.</param>
    /// <typeparam name="TVariant">The backend's shared memory (see <see cref="IKernelVariant"/>).</typeparam>
    public static void ForwardKernel<TVariant>(ArrayView<float> z, ArrayView<int> labels, ArrayView<float> targets,
        int rows, int k, float scale, ArrayView<float> q, ArrayView<float> partials, ArrayView<float> loss,
        ArrayView<int> correct)
        where TVariant : struct, IKernelVariant
    {
        int tid = Group.IdxX;
        int threads = Group.DimX;
        ArrayView<float> scratch = default(TVariant).SharedFloats(LaunchShape.MaxReductionGroup); // [threads]
        bool soft = targets.Length > 0;
        bool withLoss = soft || labels.Length > 0;
        RowTotals.GroupRows(rows, out int first, out int last);

        float threadLoss = 0f, lost = 0f; // compensated (Totals.Kahan)
        float rowsRight = 0f;
        for (int r = first + tid; r < last; r += threads)
        {
            long row = (long)r * k;
            RowLoss outcome = default(THead).Forward(new ViewRow(z, row), new ViewRow(q, row), k, new ViewRow(targets, row),
                soft || !withLoss ? 0 : labels[r], soft, withLoss);
            if (withLoss)
            {
                Totals.Kahan(ref threadLoss, ref lost, outcome.Loss);
                rowsRight += outcome.Hit ? 1f : 0f;
            }
        }

        RowTotals.Write(scratch, threadLoss - lost, rowsRight, scale, partials, loss, correct);
    }

    /// <summary>G = scale·∂loss/∂Z from the outputs, one thread per row (grid-stride).</summary>
    /// <param name="q">Q: [B, K], the head's outputs.</param>
    /// <param name="labels">y: [B] class indices (used where <paramref name="targets"/> is empty).</param>
    /// <param name="targets">Y: [B, K] target rows, or empty.</param>
    /// <param name="rows">B.</param>
    /// <param name="k">K.</param>
    /// <param name="scale">1/B for the batch mean (1/N for one block of a batch of N rows).</param>
    /// <param name="g">G: [B, K], written; may alias <paramref name="q"/>.</param>
    public static void GradientKernel(ArrayView<float> q, ArrayView<int> labels, ArrayView<float> targets, int rows, int k,
        float scale, ArrayView<float> g)
    {
        bool soft = targets.Length > 0;
        int stride = Grid.DimX * Group.DimX;
        for (int r = Grid.GlobalIndex.X; r < rows; r += stride)
        {
            long row = (long)r * k;
            default(THead).Backward(new ViewRow(q, row), k, new ViewRow(targets, row), soft ? 0 : labels[r], soft, scale,
                new ViewRow(g, row));
        }
    }

    /// <summary>Q = the head's outputs of Z over [rows, K]; with labels or targets, adds scale·Σ loss and the hits to the totals.</summary>
    public void Forward(ArrayView<float> z, ArrayView<int> labels, ArrayView<float> targets, int rows, int k, float scale,
        ArrayView<float> q, ArrayView<float> loss, ArrayView<int> correct)
    {
        KernelConfig config = totals.Config(rows);
        forward(config, z, labels, targets, rows, k, scale, q, totals.Partials, loss, correct);
        totals.Finish(config, loss, correct);
    }

    /// <summary>G = scale·∂loss/∂Z over [rows, K], from the outputs Q (G may be Q).</summary>
    public void Gradient(ArrayView<float> q, ArrayView<int> labels, ArrayView<float> targets, int rows, int k, float scale,
        ArrayView<float> g) =>
        gradient(shape.GridStride(rows, shape.ElementGroup), q, labels, targets, rows, k, scale, g);
}
