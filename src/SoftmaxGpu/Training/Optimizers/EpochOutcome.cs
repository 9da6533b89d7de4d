namespace SoftmaxGpu.Training;

/// <summary>What an optimizer measured in one epoch or iteration.</summary>
/// <param name="TrainLoss">Mean loss over the training set (a mini-batch epoch's running mean).</param>
/// <param name="TrainAccuracy">Fraction of training rows predicted correctly, measured the same way.</param>
public sealed record EpochOutcome(double TrainLoss, double TrainAccuracy)
{
    /// <summary>J = mean loss + (λ/2)‖W‖² at the new θ, where the optimizer computes it (L-BFGS).</summary>
    public double? Objective { get; init; }

    /// <summary>Passes over the training set this epoch or iteration made (L-BFGS: one per line-search trial).</summary>
    public int Passes { get; init; } = 1;

    /// <summary>Set when the optimizer has converged and wants no more calls: the stopping rule that held.</summary>
    public string? Converged { get; init; }
}
