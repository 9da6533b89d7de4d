namespace SoftmaxGpu.Training;

/// <summary>The loss became NaN or infinite; nothing is saved.</summary>
public sealed class TrainingDivergedException(int epoch, double loss, float learningRate)
    : Exception($"training diverged: the loss is {loss} at epoch {epoch}. Try a lower learning rate " +
                $"(--lr {learningRate / 10:G3} instead of {learningRate:G3}).")
{
    public int Epoch { get; } = epoch;
}
