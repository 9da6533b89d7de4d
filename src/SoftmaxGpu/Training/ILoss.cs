using ILGPU;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Kernels.Host;

namespace SoftmaxGpu.Training;

/// <summary>
/// A loss as the gradient engine sees it: from the logits Z of a block of rows to the model's outputs, the
/// summed loss and correct count, and G = ∂loss/∂Z, on the accelerator or in the host engine. The engine owns
/// every buffer and the matrix products around it (Z = X·Wᵀ + b before, dW = Gᵀ·X and db = Σ G after). Every loss
/// is a head (<see cref="IHead"/>) run by <see cref="HeadLoss{THead}"/>, so a new one is a head struct and its
/// float64 reference; no kernel and no engine changes.
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
    /// <param name="targets">Y: [rows, K] target rows, or empty.</param>
    /// <param name="outputs">Q: [rows, K], overwritten.</param>
    /// <param name="rowStats">[rows, 2] scratch the loss may keep per row (softmax: max and log-sum).</param>
    /// <param name="loss">[2]: the summed scaled loss, a compensated pair (<see cref="Totals"/>); added to.</param>
    /// <param name="correct">[1]: the correct count; added to.</param>
    void Forward(KernelSet kernels, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> targets,
        int rows, int k, float lossScale, ArrayView<float> outputs, ArrayView<float> rowStats, ArrayView<float> loss,
        ArrayView<int> correct);

    /// <summary>G = scale·∂(summed loss)/∂Z over the rows, in place over Q (scale 1/B for a batch's mean).</summary>
    void Gradient(KernelSet kernels, ArrayView<float> outputs, ArrayView<int> labels, ArrayView<float> targets,
        int rows, int k, float scale);

    /// <summary>The single-pass kernel for the whole gradient of a batch, with this loss's head compiled in.</summary>
    FusedStep FusedPass(KernelSet kernels);

    /// <summary>
    /// The host engine's gradient of a batch for the <paramref name="stack"/>'s models (one: the single fit) in one pass
    /// (<see cref="HostStep.Gradient{THead}(HostStep.Batch, HostStep.Stack, float*, float[], Span{float}, double[], int[])"/>
    /// with this loss's head): model i's summed loss and correct count into loss[i] and correct[i].
    /// </summary>
    unsafe void HostGradient(HostStep.Batch batch, HostStep.Stack stack, float* theta, float[] gradScales, Span<float> grad,
        double[] loss, int[] correct);

    /// <summary>The host engine's forward pass (<see cref="HostStep.Forward{THead}"/> with this loss's head).</summary>
    unsafe (double Loss, int Correct) HostForward(HostStep.Batch batch, float* theta, bool withLoss, float* logits,
        float* outputs, float* rowStats);
}
