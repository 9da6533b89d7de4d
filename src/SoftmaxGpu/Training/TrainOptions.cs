namespace SoftmaxGpu.Training;

/// <summary>
/// Training options, with the defaults that train iris, digits and MNIST without tuning. Each property
/// names its command-line option; <see cref="Validate"/> checks them all by that name.
/// </summary>
public sealed record TrainOptions
{
    public const string DefaultOptimizer = "adam";
    public const float DefaultLearningRate = 0.01f;
    public const int DefaultBatchSize = 64;
    public const float DefaultMomentum = 0.9f;
    public const float DefaultWeightDecay = 0f;
    public const int DefaultSeed = 1;
    public const int DefaultPatience = 0;
    /// <summary>With --epochs left out: enough epochs for this many update steps (at least MinAutoEpochs).</summary>
    public const int AutoEpochSteps = 2000;
    public const int MinAutoEpochs = 10;
    public const float AdamBeta1 = 0.9f;
    public const float AdamBeta2 = 0.999f;
    public const float AdamEpsilon = 1e-8f;

    public static readonly IReadOnlyList<string> Optimizers = ["adam", "sgd", "lbfgs"];
    public static readonly IReadOnlyList<string> Schedules = ["cosine", "constant"];

    /// <summary>--epochs: passes over the training set; null picks enough for <see cref="AutoEpochSteps"/> steps.</summary>
    public int? Epochs { get; init; }
    /// <summary>--batch-size: rows per update; 0 means the whole training set (full batch).</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;
    /// <summary>--lr: the step size η (the peak, under the cosine schedule).</summary>
    public float LearningRate { get; init; } = DefaultLearningRate;
    /// <summary>--lr-schedule: cosine decays η to 0 over the planned steps; constant keeps it.</summary>
    public string Schedule { get; init; } = "cosine";
    /// <summary>--optimizer: adam, sgd, or lbfgs (full batch, line search: ignores the batch size and the learning rate).</summary>
    public string Optimizer { get; init; } = DefaultOptimizer;
    /// <summary>--momentum: SGD momentum μ in [0, 1); 0 is plain SGD.</summary>
    public float Momentum { get; init; } = DefaultMomentum;
    /// <summary>--nesterov: Nesterov momentum for SGD.</summary>
    public bool Nesterov { get; init; }
    /// <summary>--weight-decay: λ ≥ 0 of the objective mean CE + (λ/2)‖W‖² (b unpenalized).</summary>
    public float WeightDecay { get; init; } = DefaultWeightDecay;
    /// <summary>--seed: the shuffle and the validation split.</summary>
    public int Seed { get; init; } = DefaultSeed;
    /// <summary>--patience: stop after this many epochs without a lower validation loss; 0 never stops early.</summary>
    public int Patience { get; init; } = DefaultPatience;

    /// <summary>
    /// The gradient kernels: true forces the fused single pass, false one kernel per operation; null (the
    /// default) takes the fused pass wherever the model fits it. Set by benchmarks and tests, not by train.
    /// </summary>
    public bool? Fused { get; init; }

    /// <summary>The epoch count to run for a training set of <paramref name="rows"/> rows.</summary>
    public int EpochsFor(int rows)
    {
        if (Epochs is int fixedCount)
            return fixedCount;
        if (Optimizer == "lbfgs")
            return Lbfgs.DefaultIterations;
        int stepsPerEpoch = BatchSize == 0 ? 1 : (rows + BatchSize - 1) / BatchSize;
        return Math.Max(MinAutoEpochs, (AutoEpochSteps + stepsPerEpoch - 1) / stepsPerEpoch);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that is out of range.</summary>
    public void Validate()
    {
        if (Epochs is <= 0)
            throw new ArgumentException($"--epochs must be > 0, got {Epochs}");
        if (BatchSize < 0)
            throw new ArgumentException($"--batch-size must be > 0 (or 0 for full batch), got {BatchSize}");
        if (!(LearningRate > 0) || !float.IsFinite(LearningRate))
            throw new ArgumentException($"--lr must be > 0, got {LearningRate}");
        if (!Optimizers.Contains(Optimizer))
            throw new ArgumentException($"--optimizer must be one of {string.Join(", ", Optimizers)}, got '{Optimizer}'");
        if (!Schedules.Contains(Schedule))
            throw new ArgumentException($"--lr-schedule must be one of {string.Join(", ", Schedules)}, got '{Schedule}'");
        if (Momentum is < 0 or >= 1 || float.IsNaN(Momentum))
            throw new ArgumentException($"--momentum must be in [0, 1), got {Momentum}");
        if (!(WeightDecay >= 0) || !float.IsFinite(WeightDecay))
            throw new ArgumentException($"--weight-decay must be >= 0, got {WeightDecay}");
        if (Patience < 0)
            throw new ArgumentException($"--patience must be >= 0, got {Patience}");
        if (Patience > 0 && Optimizer == "lbfgs")
            throw new ArgumentException("--patience applies to sgd and adam; lbfgs stops at the optimum by itself");
    }
}
