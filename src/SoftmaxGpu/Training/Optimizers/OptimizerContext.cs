using SoftmaxGpu.Devices;

namespace SoftmaxGpu.Training;

/// <summary>What an optimizer is made with: the engine (θ, gradients), the training set on the device, the plan.</summary>
public sealed record OptimizerContext(Gpu Gpu, GradientEngine Engine, DeviceSet Train, TrainOptions Options, TrainPlan Plan);
