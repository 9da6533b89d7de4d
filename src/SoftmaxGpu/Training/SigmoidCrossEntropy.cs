using ILGPU;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Kernels.Host;

namespace SoftmaxGpu.Training;

/// <summary>
/// Multi-label: one sigmoid per class (tag) and the binary cross-entropy with logits summed over the tags, as
/// PyTorch's BCEWithLogitsLoss(reduction="sum") per row, averaged over rows: loss_r = Σ_c max(z_c, 0) − z_c·y_c
/// + log(1 + exp(−|z_c|)), Q = σ(Z), G = (Q − Y)/B. The targets Y [rows, K] are the 0/1 tag matrix (soft
/// targets, always given when training). With λ = 1/(C·N) the objective is scikit-learn's
/// OneVsRestClassifier(LogisticRegression(C)) summed over the tags, divided by C·N. Its float64 reference is
/// ReferenceMath.BinaryCrossEntropy in the test project.
/// </summary>
public sealed class SigmoidCrossEntropy : ILoss
{
    public static readonly SigmoidCrossEntropy Instance = new();

    private SigmoidCrossEntropy()
    {
    }

    public string Name => "sigmoid-cross-entropy";

    public void Forward(KernelSet kernels, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> targets,
        int rows, int k, float lossScale, ArrayView<float> outputs, ArrayView<float> rowStats, ArrayView<float> loss,
        ArrayView<int> correct) =>
        Kernels(kernels).Forward.Launch(logits, targets, rows, k, lossScale, outputs, loss, correct);

    public void Gradient(KernelSet kernels, ArrayView<float> outputs, ArrayView<int> labels, ArrayView<float> targets,
        int rows, int k, float scale)
    {
        if (targets.Length == 0)
            throw new ArgumentException("the multi-label gradient needs the tag targets");
        Kernels(kernels).Gradient.Launch(outputs, targets, rows, k, scale, outputs);
    }

    /// <summary>The fused pass with the multi-label row step (where W fits in shared memory).</summary>
    public FusedStep FusedPass(KernelSet kernels) => Kernels(kernels).Fused;

    public RowLoss HostRows => RowLoss.SigmoidCrossEntropy;

    private static SigmoidKernels Kernels(KernelSet kernels) =>
        kernels.Get((accelerator, shape) => new SigmoidKernels(new BinaryCrossEntropy(accelerator, shape, kernels.PartialSum),
            new SigmoidGradient(accelerator, shape), new FusedStep(accelerator, shape, sigmoid: true)));

    /// <summary>This loss's kernels, made once per kernel set (the fused pass compiles at its first launch).</summary>
    private sealed record SigmoidKernels(BinaryCrossEntropy Forward, SigmoidGradient Gradient, FusedStep Fused);
}
