using ILGPU;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Kernels.Host;

namespace SoftmaxGpu.Training;

/// <summary>
/// Softmax cross-entropy, as PyTorch's CrossEntropyLoss: Q = softmax(Z) with the row max subtracted, loss
/// −log q_y = log s + m − z_y (or −Σ y_c log q_c for soft targets) from the row's (m, log s), never from a log
/// of Q; G = (Q − Y)/B. Its float64 reference is ReferenceMath in the test project.
/// </summary>
public sealed class SoftmaxCrossEntropy : ILoss
{
    public static readonly SoftmaxCrossEntropy Instance = new();

    private SoftmaxCrossEntropy()
    {
    }

    public string Name => "softmax-cross-entropy";

    public void Forward(KernelSet kernels, ArrayView<float> logits, ArrayView<int> labels, ArrayView<float> targets,
        int rows, int k, float lossScale, ArrayView<float> outputs, ArrayView<float> rowStats, ArrayView<float> loss,
        ArrayView<int> correct)
    {
        kernels.Softmax.Launch(logits, rows, k, outputs, rowStats);
        if (labels.Length > 0 || targets.Length > 0)
            kernels.CrossEntropy.Launch(logits, rowStats, labels, targets, rows, k, lossScale, loss, correct);
    }

    public void Gradient(KernelSet kernels, ArrayView<float> outputs, ArrayView<int> labels, ArrayView<float> targets,
        int rows, int k, float scale) =>
        kernels.Gradient.Launch(outputs, labels, targets, rows, k, scale, outputs);

    public FusedStep FusedPass(KernelSet kernels) => kernels.FusedStep;

    public RowLoss HostRows => RowLoss.SoftmaxCrossEntropy;
}
