using System.Diagnostics;
using System.Globalization;
using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Distributed;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Kernels.Host;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Bench;

/// <summary>
/// Times training on synthetic data made on the device: a full-batch gradient step (logits, softmax, loss,
/// gradient, SGD-with-momentum update, as PyTorch's peer script does) and a shuffled mini-batch epoch, each
/// warmed up, bracketed by device synchronizations, and reported as the median of repetitions.
/// </summary>
public static class Benchmark
{
    /// <summary>Loop trips of the multiply-add probe: long enough (milliseconds) to dwarf the launch.</summary>
    public const int MultiplyAddTrips = 1 << 16;
    /// <summary>The SGD update's η and momentum in the timed step and epoch.</summary>
    public const float LearningRate = 0.1f;
    public const float Momentum = 0.9f;

    public static Ceiling MeasureCeilings(Gpu gpu, long copyBytes, int repeats)
    {
        Accelerator accelerator = gpu.Accelerator;
        if (gpu.Host)
            return MeasureHostCeilings(accelerator, copyBytes, repeats);
        var ceilings = new Ceilings(accelerator, gpu.Kernels.Shape);
        long floats = copyBytes / 16 * 4;
        using var src = accelerator.Allocate1D<float>(floats);
        using var dst = accelerator.Allocate1D<float>(floats);
        src.MemSetToZero();
        double copySeconds = Median(repeats, () => ceilings.Copy(src.View, dst.View), accelerator);

        using var sink = accelerator.Allocate1D<float>(ceilings.MultiplyAddThreads);
        double fmaSeconds = Median(repeats, () => ceilings.MultiplyAdd(MultiplyAddTrips, sink.View), accelerator);
        double flops = 2.0 * Ceilings.Chains * MultiplyAddTrips * sink.Length;
        return new Ceiling(2.0 * floats * 4 / copySeconds, flops / fmaSeconds, floats * 4);
    }

    /// <summary>The host engine's ceilings: managed probes on every core (<see cref="HostCeilings"/>), timed as the kernels are.</summary>
    private static Ceiling MeasureHostCeilings(Accelerator accelerator, long copyBytes, int repeats)
    {
        long floats = copyBytes / 16 * 4;
        var source = new float[floats];
        var target = new float[floats];
        source.AsSpan().Fill(1f);
        double copySeconds = Median(repeats, () => HostCeilings.Copy(source, target), accelerator);
        const int trips = MultiplyAddTrips * 16; // managed chains run far faster than a launch: longer, to be timed
        var sink = new float[Environment.ProcessorCount];
        double fmaSeconds = Median(repeats, () => HostCeilings.MultiplyAdd(trips, sink), accelerator);
        return new Ceiling(2.0 * floats * 4 / copySeconds, HostCeilings.MultiplyAddFlops(trips, sink.Length) / fmaSeconds,
            floats * 4);
    }

    /// <summary>
    /// The sparse objective's evaluation (J and ∇J, as L-BFGS calls it: <see cref="Training.SparseTraining.Objective"/> —
    /// the host engine's pass, or the sparse kernels with the rows resident) on synthetic rows of the shape, median of
    /// <paramref name="repeats"/> after one warm-up, beside the floor: bytes over the copy bandwidth or FLOPs over the
    /// multiply-add rate measured in this run, whichever is larger.
    /// </summary>
    public static SparseBenchResult RunSparse(Gpu gpu, SparseShape shape, int repeats, Ceiling ceiling, int seed = 1)
    {
        (Data.SparseRows x, int[] labels) = shape.Rows(seed);
        var set = new Training.SparseSet(x, labels);
        using Training.ISparseObjective objective = Training.SparseTraining.Objective(gpu, set, null, shape.K, null, 1.0 / shape.N,
            new Training.TrainOptions());
        var theta = new double[objective.Parameters];
        var random = new Random(seed);
        for (int i = 0; i < theta.Length; i++)
            theta[i] = 0.01 * (random.NextDouble() - 0.5);
        var gradient = new double[theta.Length];
        objective.Evaluate(theta, gradient);
        var times = new double[repeats];
        for (int i = 0; i < repeats; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            objective.Evaluate(theta, gradient);
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        double floorMs = 1e3 * Math.Max(shape.Bytes / ceiling.Bandwidth, shape.Flops / ceiling.Flops);
        return new SparseBenchResult(gpu.Description, shape, times[repeats / 2], floorMs, ceiling);
    }

    /// <param name="fused">true: the fused pass; false: one kernel per operation; null: the engine's choice.</param>
    /// <param name="steps">Timed full-batch steps (after two warm-up steps).</param>
    /// <param name="epochs">Timed epochs (after one warm-up epoch); 0 skips the epoch.</param>
    public static BenchResult Run(Gpu gpu, BenchShape shape, int batch, bool? fused, int steps, int epochs,
        Ceiling ceiling, uint seed = 1)
    {
        Accelerator accelerator = gpu.Accelerator;
        KernelSet kernels = gpu.Kernels;
        (int n, int d, int k) = (shape.N, shape.D, shape.K);
        batch = Math.Min(batch, n);

        // X ~ N(0, 1): [N, D]; labels y = argmax(X·Rᵀ) for a random R: [K, D], made block by block.
        using var data = new DeviceSet(accelerator, n, d);
        var synthetic = new Synthetic(accelerator, kernels.Shape);
        synthetic.Launch(seed, 1f, data.Features);
        using (var teacher = new GradientEngine(gpu, SoftmaxCrossEntropy.Instance, d, k, batchRows: 1, evaluationRows: n))
        {
            synthetic.Launch(seed + 1, 1f / MathF.Sqrt(d), teacher.Theta);
            teacher.ForEachBlock(data.Features, n, default, default, 0f,
                (start, rows, logits, _) => teacher.Argmax(logits, rows, data.Labels.SubView(start, rows)));
        }

        // The step: the full batch's gradient and an SGD-with-momentum update, as PyTorch's peer script does.
        using var full = new GradientEngine(gpu, SoftmaxCrossEntropy.Instance, d, k, n, fused);
        using var velocity = accelerator.Allocate1D<float>(full.Theta.Length);
        velocity.MemSetToZero();
        var sgd = new SgdParameters(LearningRate, Momentum, 0f, false, checked((int)full.Layout[ParameterLayout.Weights].Length));
        double stepSeconds = Median(steps, () =>
        {
            full.Gradient(data, default, n, 1f / n);
            kernels.Sgd.Launch(full.Grad, sgd, velocity.View, full.Theta);
        }, accelerator, warmUp: 2);

        // The epoch: the trainer's own SGD epoch over shuffled mini-batches.
        using var mini = new GradientEngine(gpu, SoftmaxCrossEntropy.Instance, d, k, batch, fused);
        var options = new TrainOptions { Optimizer = Optimizers.Sgd.Name, Momentum = Momentum, Seed = (int)seed };
        var plan = new TrainPlan(Optimizers.Sgd, "bench", Schedules.Constant, Math.Max(1, epochs), batch, 0, "", LearningRate,
            accelerator.MemorySize, n) { Rows = n };
        using var resident = TrainingData.OnDevice(accelerator, data);
        using var optimizer = new SgdOptimizer(new OptimizerContext(gpu, mini, resident, options, plan));
        double epochSeconds = double.NaN;
        double loss = 0;
        if (epochs > 0)
        {
            int epoch = 0;
            epochSeconds = Median(epochs, () => loss = optimizer.Run(++epoch).TrainLoss, accelerator, warmUp: 1);
        }
        if (!double.IsFinite(loss) || !double.IsFinite(full.ReadTotals().Loss))
            throw new TrainingDivergedException(epochs, loss, LearningRate);

        string path = gpu.Host ? "host" : full.Fused == mini.Fused ? Name(full.Fused) : $"{Name(full.Fused)}+{Name(mini.Fused)}";
        return new BenchResult(gpu.Description, shape, batch, path, stepSeconds * 1e3,
            epochSeconds * 1e3, ceiling.FloorSeconds(shape) * 1e3, ceiling);
    }

    private static string Name(bool fused) => fused ? "fused" : "separate";

    /// <summary>
    /// A set of the shape in host memory, streamed through the device under a <paramref name="deviceMemory"/> cap
    /// as training streams it: the median full-batch gradient pass (every block staged, copied and computed on)
    /// beside the median copy of one block from page-locked memory to the device alone.
    /// </summary>
    /// <param name="ranks">Across ranks, each makes and streams its shard of the N rows (seeded by its rank) and
    /// the pass ends in the all-reduce of the gradient; the result then holds every rank's rows per second.</param>
    public static StreamResult RunStreamed(Gpu gpu, BenchShape shape, long deviceMemory, int repeats, int seed = 1,
        ICommunicator? ranks = null)
    {
        ranks ??= SingleProcess.Instance;
        Accelerator accelerator = gpu.Accelerator;
        (int total, int d, int k) = (shape.N, shape.D, shape.K);
        int n = (int)Shards.Range(total, ranks.Rank, ranks.Size).Count;
        var random = new Random(seed + ranks.Rank);
        var features = new float[(long)n * d];
        for (long i = 0; i < features.Length; i++)
            features[i] = (float)(random.NextDouble() * 2 - 1);
        int[] labels = Enumerable.Range(0, n).Select(_ => random.Next(k)).ToArray();
        int blockRows = TrainPlan.BlockRowsFor(deviceMemory, n, d, k, 0, n);
        using TrainingData data = TrainingData.Streamed(accelerator, new EncodedSet(features, labels, null, n, d), blockRows, total);
        using var engine = new GradientEngine(gpu, SoftmaxCrossEntropy.Instance, d, k, blockRows, ranks: ranks);

        using var staged = accelerator.AllocatePageLocked1D<float>((long)blockRows * d, uninitialized: true);
        using var target = accelerator.Allocate1D<float>((long)blockRows * d);
        double copySeconds = Median(repeats, () => target.View.CopyFromPageLockedAsync(staged), accelerator);
        double passSeconds = Median(repeats, () =>
        {
            engine.ResetTotals();
            engine.FullBatchGradient(data);
        }, accelerator);
        double reduceSeconds = engine.ReduceTime.TotalSeconds / (repeats + 1); // every pass's, the warm-up's too
        double setBytes = 4.0 * n * (d + 1);
        // Every rank's rows per second and all-reduce share, gathered by one more sum (each rank fills its slots).
        var perRank = new double[2 * ranks.Size];
        (perRank[2 * ranks.Rank], perRank[2 * ranks.Rank + 1]) = (n / passSeconds, reduceSeconds / passSeconds);
        ranks.Sum(perRank);
        return new StreamResult(gpu.Description, shape, deviceMemory, data.BlockRows, data.Blocks,
            4.0 * blockRows * d / copySeconds, setBytes / passSeconds, passSeconds * 1e3)
        {
            RanksRowsPerSecond = perRank.Where((_, i) => i % 2 == 0).ToArray(),
            RanksReduceShare = perRank.Where((_, i) => i % 2 == 1).ToArray(),
            ReduceMs = reduceSeconds * 1e3,
        };
    }

    /// <summary>Median wall time of <paramref name="work"/>, each run between two device synchronizations.</summary>
    private static double Median(int repeats, Action work, Accelerator accelerator, int warmUp = 1)
    {
        for (int i = 0; i < warmUp; i++)
            work();
        accelerator.Synchronize();
        var times = new double[Math.Max(1, repeats)];
        for (int i = 0; i < times.Length; i++)
        {
            long start = Stopwatch.GetTimestamp();
            work();
            accelerator.Synchronize();
            times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Array.Sort(times);
        return times.Length % 2 == 1 ? times[times.Length / 2] : 0.5 * (times[times.Length / 2 - 1] + times[times.Length / 2]);
    }
}
