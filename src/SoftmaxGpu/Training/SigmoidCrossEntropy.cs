using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Training;

/// <summary>
/// Multi-label (<see cref="SigmoidHead"/>): one sigmoid per class (tag) and the binary cross-entropy with logits
/// summed over the tags, as PyTorch's BCEWithLogitsLoss(reduction="sum") per row, averaged over rows. The targets
/// Y [rows, K] are the 0/1 tag matrix. With λ = 1/(C·N) the objective is scikit-learn's
/// OneVsRestClassifier(LogisticRegression(C)) summed over the tags, divided by C·N. Its float64 reference is
/// ReferenceMath.BinaryCrossEntropy in the test project.
/// </summary>
public sealed class SigmoidCrossEntropy : HeadLoss<SigmoidHead>
{
    public static readonly SigmoidCrossEntropy Instance = new();

    private SigmoidCrossEntropy() : base("sigmoid-cross-entropy")
    {
    }
}
