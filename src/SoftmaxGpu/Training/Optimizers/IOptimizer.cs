namespace SoftmaxGpu.Training;

/// <summary>
/// An optimizer as the training loop drives it: each call to <see cref="Run"/> is one epoch (a mini-batch
/// optimizer's pass over the shuffled set) or one iteration (L-BFGS), updating the engine's θ in place. The
/// loop around it (<see cref="Trainer"/>) does validation, reports, divergence and early stopping.
/// </summary>
public interface IOptimizer : IDisposable
{
    /// <summary>Epoch or iteration <paramref name="epoch"/> (1-based): update θ and say what it measured.</summary>
    EpochOutcome Run(int epoch);

    /// <summary>Anything the summary line should add about this run (L-BFGS: passes over the data).</summary>
    string Details => "";
}

/// <summary>A full-batch optimizer that keeps θ on the host in float64 (L-BFGS, Newton): a fit of a path reads it there.</summary>
public interface IFullBatchOptimizer : IOptimizer
{
    /// <summary>θ at the last accepted step.</summary>
    ReadOnlySpan<double> Position { get; }
}
