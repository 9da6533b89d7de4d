namespace SoftmaxGpu.Training;

/// <summary>
/// The loss became NaN or infinite. A mini-batch optimizer's step was too long (a lower learning rate is the cure); a
/// full-batch one (Newton, L-BFGS) searches its step, so there the data is the likely cause: a NaN or infinite value, or
/// one beyond float's range once standardized.
/// </summary>
/// <param name="learningRate">The mini-batch optimizer's η; null for a full-batch optimizer, which has none.</param>
public sealed class TrainingDivergedException(int epoch, double loss, float? learningRate)
    : Exception(learningRate is float lr
        ? $"training diverged: the loss is {loss} at epoch {epoch}. Try a lower learning rate (--lr {lr / 10:G3} instead of {lr:G3})."
        : $"training diverged: the loss is {loss} at iteration {epoch}; a full-batch optimizer searches its steps, so the data " +
          "is the likely cause: a NaN or infinite value (rows built in code are not checked as files are), or one beyond float's range")
{
    public int Epoch { get; } = epoch;
}
