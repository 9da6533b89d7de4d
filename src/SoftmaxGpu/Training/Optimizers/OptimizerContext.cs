using SoftmaxGpu.Devices;

namespace SoftmaxGpu.Training;

/// <summary>
/// What an optimizer is made with: the engine (θ, gradients), the training set (resident or streamed), the plan,
/// and the objective over them.
/// </summary>
public sealed record OptimizerContext(Gpu Gpu, GradientEngine Engine, TrainingData Train, TrainOptions Options, TrainPlan Plan)
{
    public Objective Objective { get; } = Objective.For(Engine, Train, Plan);

    /// <summary>The training rows as the host reads them (an optimizer that computes on the host: <see cref="NewtonOptimizer"/>); null where not given.</summary>
    public IRowSource? Rows { get; init; }
}
