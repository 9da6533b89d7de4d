namespace SoftmaxGpu.Kernels;

/// <summary>Hyper-parameters of one Adam step; the bias corrections depend on the step count t.</summary>
public readonly struct AdamParameters
{
    public readonly float LearningRate;
    public readonly float Beta1;
    public readonly float Beta2;
    public readonly float Epsilon;
    public readonly float WeightDecay;
    /// <summary>1 − β1^t.</summary>
    public readonly float Correction1;
    /// <summary>1 − β2^t.</summary>
    public readonly float Correction2;
    /// <summary>Entries [0, Penalized) of theta get weight decay: W, not b.</summary>
    public readonly int Penalized;

    public AdamParameters(float learningRate, float beta1, float beta2, float epsilon, float weightDecay,
        long step, int penalized)
    {
        LearningRate = learningRate;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        Correction1 = (float)(1 - Math.Pow(beta1, step));
        Correction2 = (float)(1 - Math.Pow(beta2, step));
        Penalized = penalized;
    }
}
