namespace SoftmaxGpu.Training;

/// <summary>What one epoch (an L-BFGS iteration) did; validation figures are null without a validation set.</summary>
/// <param name="Epochs">The planned count (L-BFGS: the iteration cap).</param>
public sealed record EpochReport(int Epoch, int Epochs, double TrainLoss, double TrainAccuracy, double? ValLoss,
    double? ValAccuracy, TimeSpan Elapsed)
{
    /// <summary>J = mean loss + (λ/2)‖W‖² over the whole training set, where the optimizer computes it (L-BFGS).</summary>
    public double? Objective { get; init; }

    /// <summary>Rows the optimizer has read so far: its passes over the training set (line-search trials included) × N.</summary>
    public long RowsRead { get; init; }
}
