using ILGPU;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Kernels.Host;

namespace SoftmaxGpu.Training;

/// <summary>
/// A head (<see cref="IHead"/>) as a loss on every engine: its per-row kernels and fused pass
/// (<see cref="HeadKernels{THead}"/>, compiled for it on each accelerator) and the host engine's rows. A new head —
/// squared error on the probabilities, say — is its struct, <c>new HeadLoss&lt;TheHead&gt;("name")</c> as
/// <see cref="TrainOptions.Loss"/>, and its float64 reference in the tests.
/// </summary>
/// <param name="name">The name the model file and the summary use.</param>
public class HeadLoss<THead>(string name) : ILoss where THead : struct, IHead
{
    public string Name => name;

    public virtual void Forward(KernelSet kernels, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> targets,
        int rows, int k, float lossScale, ArrayView<float> outputs, ArrayView<float> rowStats, ArrayView<float> loss,
        ArrayView<int> correct) =>
        Kernels(kernels).Forward(logits, labels, targets, rows, k, lossScale, outputs, loss, correct);

    public virtual void Gradient(KernelSet kernels, ArrayView<float> outputs, ArrayView<int> labels, ArrayView<float> targets,
        int rows, int k, float scale) =>
        Kernels(kernels).Gradient(outputs, labels, targets, rows, k, scale, outputs);

    public virtual FusedStep FusedPass(KernelSet kernels) => Kernels(kernels).Fused;

    public unsafe void HostGradient(HostStep.Batch batch, HostStep.Stack stack, float* theta, float[] gradScales, Span<float> grad,
        double[] loss, int[] correct) =>
        HostStep.Gradient<THead>(batch, stack, theta, gradScales, grad, loss, correct);

    public unsafe (double Loss, int Correct) HostForward(HostStep.Batch batch, float* theta, bool withLoss, float* logits,
        float* outputs, float* rowStats) =>
        HostStep.Forward<THead>(batch, theta, withLoss, logits, outputs, rowStats);

    /// <summary>This head's kernels, made once per kernel set (each compiles at its first launch).</summary>
    protected static HeadKernels<THead> Kernels(KernelSet kernels) =>
        kernels.Get((accelerator, shape) => new HeadKernels<THead>(accelerator, shape, kernels.PartialSum));
}
