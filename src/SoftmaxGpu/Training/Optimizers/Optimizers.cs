namespace SoftmaxGpu.Training;

/// <summary>
/// The optimizers --optimizer names, as a table like <see cref="Devices.Backends"/>: adding one is its type
/// and a row here (or a call to <see cref="Register"/>). <c>auto</c> is not a row: it picks Newton for a small model on
/// the host engine (<see cref="NewtonOptimizer.Applies"/>), L-BFGS where the training set fits the device, Adam otherwise
/// (<see cref="TrainPlan"/>).
/// </summary>
public static class Optimizers
{
    public const string Auto = "auto";

    /// <summary>Mini-batch runs without --epochs get enough epochs for this many updates (at least MinEpochs).</summary>
    public const int DefaultUpdates = 2000;
    public const int MinEpochs = 10;

    public static readonly OptimizerEntry Adam = new("adam", "Adam on mini-batches (cosine-decayed learning rate by default)",
        FullBatch: false, MiniBatchEpochs, context => new AdamOptimizer(context));

    public static readonly OptimizerEntry Sgd = new("sgd", "SGD with momentum (and --nesterov) on mini-batches",
        FullBatch: false, MiniBatchEpochs, context => new SgdOptimizer(context))
    {
        Reads = [.. OptimizerEntry.MiniBatchOptions, "--momentum", "--nesterov"],
    };

    public static readonly OptimizerEntry Lbfgs = new("lbfgs", "full-batch L-BFGS to the optimum of the regularized objective",
        FullBatch: true, (_, _) => LbfgsOptimizer.DefaultIterations, context => new LbfgsOptimizer(context));

    public static readonly OptimizerEntry Newton = new("newton",
        "Newton's method with the exact Hessian, float64 on the host engine: small softmax models to the optimum in a few iterations",
        FullBatch: true, (_, _) => NewtonOptimizer.DefaultIterations, context => new NewtonOptimizer(context));

    private static readonly List<OptimizerEntry> Table = [Lbfgs, Newton, Adam, Sgd];
    private static readonly Lock TableLock = new();

    public static IReadOnlyList<OptimizerEntry> All
    {
        get
        {
            lock (TableLock)
                return Table.ToArray();
        }
    }

    /// <summary>Names --optimizer accepts: auto, then every row.</summary>
    public static IReadOnlyList<string> Names => [Auto, .. All.Select(o => o.Name)];

    /// <summary>Adds a row (an optimizer of a library user's, or a test's); a name already taken is an error.</summary>
    public static void Register(OptimizerEntry entry)
    {
        lock (TableLock)
        {
            if (Table.Any(o => o.Name == entry.Name) || entry.Name == Auto)
                throw new ArgumentException($"an optimizer named '{entry.Name}' is already registered");
            Table.Add(entry);
        }
    }

    /// <summary>The row named <paramref name="name"/>, or null for auto; an unknown name is an error listing the rest.</summary>
    public static OptimizerEntry? Find(string name)
    {
        if (name == Auto)
            return null;
        return All.FirstOrDefault(o => o.Name == name)
               ?? throw new ArgumentException($"--optimizer must be one of {string.Join(", ", Names)}, got '{name}'");
    }

    /// <summary>Enough epochs for <see cref="DefaultUpdates"/> updates, at least <see cref="MinEpochs"/>.</summary>
    public static int MiniBatchEpochs(int rows, int batch)
    {
        int stepsPerEpoch = (rows + batch - 1) / batch;
        return Math.Max(MinEpochs, (DefaultUpdates + stepsPerEpoch - 1) / stepsPerEpoch);
    }
}
