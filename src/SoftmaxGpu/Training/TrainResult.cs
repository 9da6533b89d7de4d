namespace SoftmaxGpu.Training;

/// <summary>The parameters theta = [W | b] after training (the best validation epoch's when stopping early).</summary>
/// <param name="Plan">The resolved options: optimizer (and why), epochs, batch, λ.</param>
public sealed record TrainResult(float[] Theta, IReadOnlyList<EpochReport> History, int BestEpoch, bool StoppedEarly,
    TrainPlan Plan)
{
    /// <summary>
    /// J = mean loss + (λ/2)‖W‖² of the returned θ over the whole training set, where the optimizer computed it
    /// for that θ (L-BFGS); null for mini-batch runs, which would need one more pass over the data for it.
    /// </summary>
    public double? Objective { get; init; }

    /// <summary>Whether the optimizer met its stopping rule (mini-batch runs: always, when they run their epochs).</summary>
    public bool Converged { get; init; }

    /// <summary>How training ended: the stopping rule that held, or the cap that was hit.</summary>
    public string StopReason { get; init; } = "";

    /// <summary>A line on the run, from the optimizer (L-BFGS: iterations and passes over the data).</summary>
    public string Summary { get; init; } = "";
}
