namespace SoftmaxGpu.Training;

/// <summary>
/// Training options as the user gives them; null means "not given", and <see cref="TrainPlan"/> resolves the
/// defaults against the data and the device. Each property names its command-line option; <see cref="Validate"/>
/// checks them all by that name.
///
/// The objective is J(θ) = mean loss + (λ/2)‖W‖² (b unpenalized). By default λ = 1/N, scikit-learn's
/// LogisticRegression(C = 1) divided by C·N, and the optimizer is chosen by <c>auto</c>: full-batch L-BFGS to
/// the optimum where the training set fits the device, Adam on mini-batches otherwise.
/// </summary>
public sealed record TrainOptions
{
    public const int DefaultBatchSize = 64;
    public const float DefaultLearningRate = 0.01f;
    public const float DefaultMomentum = 0.9f;
    public const double DefaultC = 1.0;
    public const int DefaultSeed = 1;
    public const float AdamBeta1 = 0.9f;
    public const float AdamBeta2 = 0.999f;
    public const float AdamEpsilon = 1e-8f;

    /// <summary>--optimizer: auto, or a name from <see cref="Optimizers"/>.</summary>
    public string Optimizer { get; init; } = Optimizers.Auto;
    /// <summary>--epochs: passes over the data (L-BFGS: the most iterations); null: the optimizer's default.</summary>
    public int? Epochs { get; init; }
    /// <summary>--batch-size: rows per update, 0 for the full batch; null: <see cref="DefaultBatchSize"/>. Mini-batch only.</summary>
    public int? BatchSize { get; init; }
    /// <summary>--lr: the step size η (the peak, under the cosine schedule); null: <see cref="DefaultLearningRate"/>.</summary>
    public float? LearningRate { get; init; }
    /// <summary>--lr-schedule: a name from <see cref="Schedules"/>.</summary>
    public string Schedule { get; init; } = Schedules.Cosine.Name;
    /// <summary>--momentum: SGD momentum μ in [0, 1); 0 is plain SGD.</summary>
    public float Momentum { get; init; } = DefaultMomentum;
    /// <summary>--nesterov: Nesterov momentum for SGD.</summary>
    public bool Nesterov { get; init; }
    /// <summary>--weight-decay: λ ≥ 0 of J = mean loss + (λ/2)‖W‖²; null: 1/(C·N), or 1/(C·Σw) with weights.</summary>
    public float? WeightDecay { get; init; }
    /// <summary>--C: scikit-learn's inverse regularization strength, λ = 1/(C·N); null: <see cref="DefaultC"/>.</summary>
    public double? C { get; init; }
    /// <summary>What a path's values are (<see cref="TrainingSpec.Cs"/>): C (the default), or weight decays; single fits ignore it.</summary>
    public PathPenalty PathPenalty { get; init; }
    /// <summary>--seed: the shuffle and the validation split.</summary>
    public int Seed { get; init; } = DefaultSeed;
    /// <summary>--patience: stop after this many epochs without a lower validation loss; 0 never stops early.</summary>
    public int Patience { get; init; }

    /// <summary>
    /// --device-memory: bytes training may use on the device; null: <see cref="TrainPlan.DeviceMemoryShare"/> of
    /// what the device reports. Sets that do not fit stream through the device in blocks.
    /// </summary>
    public long? DeviceMemory { get; init; }

    /// <summary>Rows per streamed block, overriding what --device-memory gives: a test knob, not part of the API.</summary>
    internal int? StreamBlockRows { get; init; }

    /// <summary>--scale: how features are scaled before training (std, the default; maxabs; none).</summary>
    public Data.FeatureScaling Scale { get; init; } = Data.FeatureScaling.Std;

    /// <summary>The loss the model is trained on.</summary>
    public ILoss Loss { get; init; } = SoftmaxCrossEntropy.Instance;

    /// <summary>θ = [W (K·D) | b (K)] to start from (warm start, --init-model); null: zeros.</summary>
    public float[]? InitialTheta { get; init; }

    /// <summary>
    /// --label-smoothing ε in [0, 1), as PyTorch's CrossEntropyLoss: each training row's target is
    /// (1 − ε)·onehot(y) + ε/K, trained as soft targets. The validation loss stays the plain cross-entropy.
    /// </summary>
    public float LabelSmoothing { get; init; }

    /// <summary>
    /// --class-weight: <see cref="Weighting.Balanced"/> (w_c = N/(K·n_c), scikit-learn's) or "name=w,name=w,…"
    /// (classes not named get 1); null: every class 1. See <see cref="Weighting"/> for the objective.
    /// </summary>
    public string? ClassWeight { get; init; }

    /// <summary>--weight-column: a CSV column of per-row weights ≥ 0, not a feature; null: every row 1.</summary>
    public string? WeightColumn { get; init; }

    /// <summary>
    /// --target-columns: K CSV columns holding each row's class probabilities, the classes in that order; they are
    /// not features, and the data has no label column. null: a label column.
    /// </summary>
    public string[]? TargetColumns { get; init; }

    /// <summary>
    /// Σ_i w_i over the training rows, set by <see cref="Pipeline"/> when rows are weighted: λ's default is then
    /// 1/(C·Σw), scikit-learn's with the same weights. null: unweighted (λ = 1/(C·N)).
    /// </summary>
    public double? WeightSum { get; init; }

    /// <summary>
    /// The processes training this model together, each on its shard of the rows (MPI ranks: <c>mpirun -np P
    /// softmaxgpu train</c>); one process by default. Not a user option: the launcher decides it.
    /// </summary>
    public Distributed.ICommunicator Ranks { get; init; } = Distributed.SingleProcess.Instance;

    /// <summary>
    /// Where a path over C reports each of its fits as it ends (<see cref="PathFit"/>: the command line's progress
    /// during a search); called from the folds' threads, so it must be safe to call from several at once. Null: the
    /// fits run quietly. Not a user option.
    /// </summary>
    public Action<PathFit>? OnPathFit { get; init; }

    /// <summary>Whether class or sample weights were asked for.</summary>
    public bool Weighted => ClassWeight is not null || WeightColumn is not null;

    /// <summary>
    /// The gradient kernels: true forces the fused single pass, false one kernel per operation; null (the
    /// default) lets <see cref="GradientEngine"/> choose for the device. A test knob, not part of the API.
    /// </summary>
    internal bool? Fused { get; init; }

    /// <summary>
    /// Set by a regularization path (<see cref="CrossValidation"/>): every fit goes to its optimum, so auto picks a
    /// full-batch optimizer (Newton or L-BFGS) whatever the mini-batch options and the device's memory. Not a user option.
    /// </summary>
    public bool ToOptimum { get; init; }

    /// <summary>Whether the user asked for mini-batch training (a batch size, a learning rate, early stopping).</summary>
    public bool MiniBatchAsked => BatchSize is not null || LearningRate is not null || Patience > 0;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that is out of range.</summary>
    public void Validate()
    {
        OptimizerEntry? optimizer = Optimizers.Find(Optimizer);
        Schedules.Find(Schedule);
        if (Epochs is <= 0)
            throw new ArgumentException($"--epochs must be > 0, got {Epochs}");
        if (BatchSize < 0)
            throw new ArgumentException($"--batch-size must be > 0 (or 0 for full batch), got {BatchSize}");
        if (LearningRate is float lr && (!(lr > 0) || !float.IsFinite(lr)))
            throw new ArgumentException($"--lr must be > 0, got {lr}");
        if (Momentum is < 0 or >= 1 || float.IsNaN(Momentum))
            throw new ArgumentException($"--momentum must be in [0, 1), got {Momentum}");
        if (WeightDecay is float wd && (!(wd >= 0) || !float.IsFinite(wd)))
            throw new ArgumentException($"--weight-decay must be >= 0, got {wd}");
        if (C is double c && (!(c > 0) || !double.IsFinite(c)))
            throw new ArgumentException($"--C must be > 0, got {c}");
        if (C is not null && WeightDecay is not null)
            throw new ArgumentException("give --weight-decay or --C, not both (λ = 1/(C·N))");
        if (DeviceMemory is <= 0)
            throw new ArgumentException($"--device-memory must be > 0 bytes, got {DeviceMemory}");
        if (StreamBlockRows is <= 0)
            throw new ArgumentException($"stream block rows must be > 0, got {StreamBlockRows}");
        if (LabelSmoothing is < 0 or >= 1 || float.IsNaN(LabelSmoothing))
            throw new ArgumentException($"--label-smoothing must be in [0, 1), got {LabelSmoothing}");
        if (ClassWeight is not null)
            Weighting.Parse(ClassWeight);
        if (WeightColumn is "")
            throw new ArgumentException("--weight-column must name a column, got an empty name");
        if (TargetColumns is not null)
            Weighting.CheckTargetColumns(TargetColumns, WeightColumn);
        if (WeightSum is double sum && !(sum > 0 && double.IsFinite(sum)))
            throw new ArgumentException($"the weights' sum must be > 0 and finite, got {sum}");
        if (Patience < 0)
            throw new ArgumentException($"--patience must be >= 0, got {Patience}");
        if (Patience > 0 && optimizer is { FullBatch: true })
            throw new ArgumentException($"--patience applies to mini-batch optimizers; {optimizer.Name} stops at the optimum by itself");
    }
}
