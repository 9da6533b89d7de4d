namespace SoftmaxGpu.Kernels;

/// <summary>Hyper-parameters of one SGD step, passed to the kernel by value.</summary>
public readonly struct SgdParameters
{
    public readonly float LearningRate;
    public readonly float Momentum;
    public readonly float WeightDecay;
    /// <summary>1 for Nesterov momentum, 0 for heavy-ball (an int: kernel arguments stay blittable).</summary>
    public readonly int Nesterov;
    /// <summary>Entries [0, Penalized) of theta get weight decay: W, not b.</summary>
    public readonly int Penalized;

    public SgdParameters(float learningRate, float momentum, float weightDecay, bool nesterov, int penalized)
    {
        LearningRate = learningRate;
        Momentum = momentum;
        WeightDecay = weightDecay;
        Nesterov = nesterov ? 1 : 0;
        Penalized = penalized;
    }
}
