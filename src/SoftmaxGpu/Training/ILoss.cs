using ILGPU;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Kernels.Host;

namespace SoftmaxGpu.Training;

/// <summary>
/// A loss as the gradient engine sees it: from the logits Z of a block of rows to the model's outputs, the
/// summed loss and correct count, and G = ∂loss/∂Z, on the accelerator. The engine owns every buffer and the
/// matrix products around it (Z = X·Wᵀ + b before, dW = Gᵀ·X and db = Σ G after), so a new loss is this
/// interface, its kernels (fetched through <see cref="KernelSet.Get{T}"/>) and its float64 reference.
/// </summary>
public interface ILoss
{
    /// <summary>The name the model file and the summary use.</summary>
    string Name { get; }

    /// <summary>
    /// Q = the model's outputs for logits Z (probabilities), with per-row statistics; adds lossScale·Σ loss and
    /// the correct count to the totals. Labels and targets may both be empty (prediction): then no loss.
    /// </summary>
    /// <param name="logits">Z: [rows, K].</param>
    /// <param name="labels">y: [rows] class indices, or empty.</param>
    /// <param name="targets">Y: [rows, K] soft targets, or empty.</param>
    /// <param name="outputs">Q: [rows, K], overwritten.</param>
    /// <param name="rowStats">[rows, 2] scratch the loss may keep per row (softmax: max and log-sum).</param>
    /// <param name="loss">[2]: the summed scaled loss, a compensated pair (<see cref="Totals"/>); added to.</param>
    /// <param name="correct">[1]: the correct count; added to.</param>
    void Forward(KernelSet kernels, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> targets,
        int rows, int k, float lossScale, ArrayView<float> outputs, ArrayView<float> rowStats, ArrayView<float> loss,
        ArrayView<int> correct);

    /// <summary>
    /// G = scale·∂(summed loss)/∂Z over the rows, in place over Q: for softmax cross-entropy (Q − Y)·scale, where
    /// scale is 1/B for a batch's mean (1/N for one block of a batch of N rows).
    /// </summary>
    void Gradient(KernelSet kernels, ArrayView<float> outputs, ArrayView<int> labels, ArrayView<float> targets,
        int rows, int k, float scale);

    /// <summary>The single-pass kernel for the whole gradient of a batch, or null where this loss has none.</summary>
    FusedStep? FusedPass(KernelSet kernels);

    /// <summary>What the host engine (<see cref="Kernels.Host.HostStep"/>) computes per row for this loss.</summary>
    RowLoss HostRows { get; }
}
