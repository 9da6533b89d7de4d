namespace SoftmaxGpu.Training;

/// <summary>
/// One row of the optimizer table (<see cref="Optimizers"/>): the name --optimizer takes, a line for --help,
/// whether it works on the full batch, its default epoch (iteration) count, and how to make one.
/// </summary>
/// <param name="FullBatch">Full-batch only (L-BFGS): ignores --batch-size and --lr, has no early stopping.</param>
/// <param name="DefaultEpochs">Epochs when --epochs is not given, from (training rows, batch rows).</param>
public sealed record OptimizerEntry(string Name, string Description, bool FullBatch, Func<int, int, int> DefaultEpochs,
    Func<OptimizerContext, IOptimizer> Create)
{
    /// <summary>The options every mini-batch optimizer reads: the batch, the step size and its schedule, early stopping, the shuffle.</summary>
    public static readonly IReadOnlyList<string> MiniBatchOptions = ["--batch-size", "--lr", "--lr-schedule", "--patience", "--seed"];

    /// <summary>
    /// The training options, by their command-line names, that this optimizer reads beyond those every optimizer
    /// reads (--epochs, λ): the others are ignored, and the command line warns that they are. Default: none for
    /// a full-batch optimizer, <see cref="MiniBatchOptions"/> for a mini-batch one.
    /// </summary>
    public IReadOnlyList<string> Reads { get; init; } = FullBatch ? [] : MiniBatchOptions;
}
