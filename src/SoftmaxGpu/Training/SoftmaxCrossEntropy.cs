using ILGPU;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Training;

/// <summary>
/// Softmax cross-entropy (<see cref="SoftmaxHead"/>), as PyTorch's CrossEntropyLoss. Where the fused pass does not
/// serve (large K), the forward pass and the gradient run as the separate kernels <see cref="Softmax"/> (one group
/// per row: its max and sum reduced across the group), <see cref="CrossEntropy"/> and <see cref="Gradient"/>
/// instead of one thread per row. Its float64 reference is ReferenceMath in the test project.
/// </summary>
public sealed class SoftmaxCrossEntropy : HeadLoss<SoftmaxHead>
{
    public static readonly SoftmaxCrossEntropy Instance = new();

    private SoftmaxCrossEntropy() : base("softmax-cross-entropy")
    {
    }

    public override void Forward(KernelSet kernels, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> targets,
        int rows, int k, float lossScale, ArrayView<float> outputs, ArrayView<float> rowStats, ArrayView<float> loss,
        ArrayView<int> correct)
    {
        kernels.Softmax.Launch(logits, rows, k, outputs, rowStats);
        if (labels.Length > 0 || targets.Length > 0)
            kernels.CrossEntropy.Launch(logits, rowStats, labels, targets, rows, k, lossScale, loss, correct);
    }

    public override void Gradient(KernelSet kernels, ArrayView<float> outputs, ArrayView<int> labels, ArrayView<float> targets,
        int rows, int k, float scale) =>
        kernels.Gradient.Launch(outputs, labels, targets, rows, k, scale, outputs);

    public override FusedStep FusedPass(KernelSet kernels) => kernels.FusedStep;
}
