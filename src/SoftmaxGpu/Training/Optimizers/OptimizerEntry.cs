namespace SoftmaxGpu.Training;

/// <summary>
/// One row of the optimizer table (<see cref="Optimizers"/>): the name --optimizer takes, a line for --help,
/// whether it works on the full batch, its default epoch (iteration) count, and how to make one.
/// </summary>
/// <param name="FullBatch">Full-batch only (L-BFGS): ignores --batch-size and --lr, has no early stopping.</param>
/// <param name="DefaultEpochs">Epochs when --epochs is not given, from (training rows, batch rows).</param>
public sealed record OptimizerEntry(string Name, string Description, bool FullBatch, Func<int, int, int> DefaultEpochs,
    Func<OptimizerContext, IOptimizer> Create);
