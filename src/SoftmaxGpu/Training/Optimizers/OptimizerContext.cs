using SoftmaxGpu.Devices;

namespace SoftmaxGpu.Training;

/// <summary>
/// What an optimizer is made with: the engine (θ, gradients), the training set (resident or streamed), the plan,
/// and the objective over them.
/// </summary>
public sealed record OptimizerContext(Gpu Gpu, GradientEngine Engine, TrainingData Train, TrainOptions Options, TrainPlan Plan)
{
    public Objective Objective { get; } = Objective.For(Engine, Train, Plan);
}
