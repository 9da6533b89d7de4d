using System.CommandLine;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using ILGPU.Runtime;
using SoftmaxGpu.Bench;
using SoftmaxGpu.Devices;

namespace SoftmaxGpu.Cli;

/// <summary><c>softmaxgpu bench</c>: training speed on synthetic data against the device's measured floor.</summary>
public static class BenchCommand
{
    /// <summary>Three GPU shapes: MNIST-sized, many rows, many classes (the PyTorch peer's figures are for these).</summary>
    public static readonly string[] GpuShapes = ["60000x784x10", "1000000x256x10", "1000000x1024x100"];

    /// <summary>Shapes the CPU accelerator (an emulator) finishes in seconds.</summary>
    public static readonly string[] CpuShapes = ["8192x64x10", "4096x784x10", "2048x256x100"];
    /// <summary>Shapes on the host engine: the fast-CPU issue's, beside NumPy/OpenBLAS (bench/host-vs-numpy.py).</summary>
    public static readonly string[] HostShapes = ["60000x784x10", "1000000x256x10", "200000x1024x100"];

    public static Command Create(TextWriter output, TextWriter error)
    {
        var a = new Arguments();
        var command = new Command("bench",
            "Time a full-batch gradient step and a mini-batch epoch on synthetic data made on the device, beside the " +
            "floor from the device's copy bandwidth and multiply-add rate measured in the same run.")
        {
            a.Shapes, a.Batch, a.Steps, a.Epochs, a.Kernels, a.CopyMiB, a.Json, a.Stream, a.DeviceMemory, a.Device,
        };
        command.SetAction(parse => Ranked.Run(output, error, (ranks, output) =>
        {
            string mode = parse.GetValue(a.Kernels)!;
            (int batchSize, int stepCount, int epochCount, int? mib) =
                (parse.GetValue(a.Batch), parse.GetValue(a.Steps), parse.GetValue(a.Epochs), parse.GetValue(a.CopyMiB));
            Check(mode, batchSize, stepCount, epochCount, mib);
            using Gpu gpu = Ranked.OpenDevice(parse.GetValue(a.Device)!, error, ranks);
            TextWriter warnings = ranks.Rank == 0 ? error : TextWriter.Null;
            if (!parse.GetValue(a.Stream) && IgnoredOptions.Typed(parse, a.DeviceMemory))
                warnings.WriteLine("warning: --device-memory is ignored: it caps the device memory of --stream's runs");
            if (gpu.Host && IgnoredOptions.Typed(parse, a.Kernels))
                warnings.WriteLine("warning: --kernels is ignored: the host engine has one path (its rows say 'host')");
            if (parse.GetValue(a.Stream))
                return Streamed(gpu, parse.GetValue(a.Shapes) ?? [], parse.GetValue(a.DeviceMemory), stepCount, parse.GetValue(a.Json), output, ranks);
            string[] shapes = parse.GetValue(a.Shapes) ?? [];
            if (shapes.Any(SparseShape.Is))
            {
                if (!shapes.All(SparseShape.Is))
                    throw new ArgumentException("give dense shapes (NxDxK) or sparse ones (NxDxK@density), not both in one run");
                Sparse(gpu, shapes, stepCount, mib, parse.GetValue(a.Json), output);
                return 0;
            }
            Table(gpu, shapes, mode, batchSize, stepCount, epochCount, mib, parse.GetValue(a.Json), output);
            return 0;
        }));
        return command;
    }

    /// <summary>bench's shapes and options.</summary>
    private sealed class Arguments
    {
        public Argument<string[]> Shapes { get; } = new("shapes")
        {
            Description = "Problems as NxDxK (rows x features x classes), or NxDxK@density for sparse rows (the sparse L-BFGS " +
                          $"pass on synthetic Zipf-like rows, e.g. 50000x300000x57@0.0003). Default on a GPU: {string.Join(" ", GpuShapes)}; " +
                          $"on the host engine: {string.Join(" ", HostShapes)}; on the CPU accelerator: {string.Join(" ", CpuShapes)}.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        // An unknown option lands here (a command with arguments takes any token); no shape starts with '-'.
        public Arguments()
        {
            Shapes.Validators.Add(result =>
            {
                if (result.Tokens.FirstOrDefault(t => t.Value.StartsWith('-')) is { } option)
                    result.AddError($"unknown option '{option.Value}'");
            });
        }
        public Option<int> Batch { get; } = new("--batch-size")
        {
            Description = "Rows per mini-batch step of the timed epoch.",
            DefaultValueFactory = _ => 1024,
        };
        public Option<int> Steps { get; } = new("--steps")
        {
            Description = "Timed full-batch steps (median reported; two more warm up).",
            DefaultValueFactory = _ => 20,
        };
        public Option<int> Epochs { get; } = new("--epochs")
        {
            Description = "Timed shuffled mini-batch epochs (median reported; one more warms up); 0 skips them.",
            DefaultValueFactory = _ => 3,
        };
        public Option<string> Kernels { get; } = new("--kernels")
        {
            Description = "fused, separate (one kernel per operation), both, or auto (the trainer's choice: step and epoch each as training would run them).",
            DefaultValueFactory = _ => "both",
        };
        public Option<int?> CopyMiB { get; } = new("--copy-mib")
        {
            Description = "MiB copied by the bandwidth probe (default: 1024 on a GPU, 256 on the host engine, 64 on the CPU accelerator).",
        };
        public Option<bool> Json { get; } = new("--json") { Description = "One JSON object per line instead of the table." };
        public Option<bool> Stream { get; } = new("--stream")
        {
            Description = "Instead: a set of each shape in host memory streamed through the device under --device-memory " +
                          "(default: a quarter of the set), its full-batch pass beside a plain host→device copy. Under mpirun each rank " +
                          "streams its shard of the rows, and rank 0 reports each rank's rows/s, their total and the all-reduce's share.",
        };
        public Option<string?> DeviceMemory { get; } = new("--device-memory") { Description = "With --stream: the device memory cap (e.g. 64MiB)." };
        public Option<string> Device { get; } = App.DeviceOption();
    }

    /// <summary>The run's counts, each checked by name.</summary>
    private static void Check(string mode, int batchSize, int stepCount, int epochCount, int? mib)
    {
        if (mode is not ("fused" or "separate" or "both" or "auto"))
            throw new ArgumentException($"--kernels must be fused, separate, both or auto, got '{mode}'");
        if (batchSize <= 0)
            throw new ArgumentException($"--batch-size must be > 0, got {batchSize}");
        if (stepCount <= 0)
            throw new ArgumentException($"--steps must be > 0, got {stepCount}");
        if (epochCount < 0)
            throw new ArgumentException($"--epochs must be >= 0, got {epochCount}");
        if (mib is <= 0)
            throw new ArgumentException($"--copy-mib must be > 0, got {mib}");
    }

    /// <summary>The ceilings of <paramref name="gpu"/>, then a row (or JSON line) per shape and kernel path.</summary>
    private static void Table(Gpu gpu, string[] given, string mode, int batchSize, int stepCount, int epochCount, int? mib,
        bool asJson, TextWriter output)
    {
        bool cpu = gpu.Accelerator.AcceleratorType == AcceleratorType.CPU && !gpu.Host; // the emulator: small shapes
        BenchShape[] problems = (given.Length > 0 ? given : cpu ? CpuShapes : gpu.Host ? HostShapes : GpuShapes).Select(BenchShape.Parse).ToArray();
        string version = typeof(BenchCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";

        Ceiling ceiling = Benchmark.MeasureCeilings(gpu, (long)(mib ?? (cpu ? 64 : gpu.Host ? 256 : 1024)) << 20, repeats: 10);
        if (!asJson)
        {
            output.WriteLine($"softmaxgpu {version} on {gpu.Description}");
            output.WriteLine($"ceilings ({(gpu.Host ? "managed code on every core" : "ILGPU kernels")}, this run): copy {ceiling.Bandwidth / 1e9:F1} GB/s (read + write, " +
                             $"{ceiling.CopyBytes >> 20} MiB), float32 multiply-add {ceiling.Flops / 1e9:F1} GFLOP/s");
            output.WriteLine("floor = max(N·D·4 bytes / copy bandwidth, 4·N·D·K FLOPs / multiply-add rate); times are medians");
            output.WriteLine($"{"shape",-18} {"kernels",-8} {"step ms",10} {"floor ms",10} {"x floor",8} {"epoch ms",10} {"x floor",8}  batch");
        }
        foreach (BenchShape shape in problems)
        {
            bool fits = gpu.Kernels.FusedStep.Fits(shape.D, shape.K);
            var variants = gpu.Host ? [null] : mode switch // the host engine has one path
            {
                "fused" => [true],
                "separate" => [false],
                "auto" => [null],
                _ => fits ? new bool?[] { true, false } : [false],
            };
            if (mode == "fused" && !fits)
                throw new ArgumentException($"{shape}: a {shape.D}×{shape.K} model does not fit the fused pass's shared memory; use --kernels separate or auto");
            foreach (bool? fused in variants)
            {
                BenchResult r = Benchmark.Run(gpu, shape, batchSize, fused, stepCount, epochCount, ceiling);
                output.WriteLine(asJson ? Json(r, version) : Row(r));
                output.Flush();
            }
        }
    }

    /// <summary>
    /// Sparse shapes (NxDxK@density): the sparse objective's evaluation — what one L-BFGS pass costs — on synthetic
    /// Zipf-like rows, beside the floor of this run's ceilings.
    /// </summary>
    private static void Sparse(Gpu gpu, string[] given, int repeats, int? mib, bool asJson, TextWriter output)
    {
        SparseShape[] problems = given.Select(SparseShape.Parse).ToArray();
        bool cpu = gpu.Accelerator.AcceleratorType == AcceleratorType.CPU && !gpu.Host;
        Ceiling ceiling = Benchmark.MeasureCeilings(gpu, (long)(mib ?? (cpu ? 64 : gpu.Host ? 256 : 1024)) << 20, repeats: 10);
        if (!asJson)
        {
            output.WriteLine($"sparse evaluation (J and ∇J, one L-BFGS pass) on {gpu.Description}; medians of {repeats}");
            output.WriteLine($"ceilings (this run): copy {ceiling.Bandwidth / 1e9:F1} GB/s, float32 multiply-add {ceiling.Flops / 1e9:F1} GFLOP/s");
            output.WriteLine("floor = max((8·nnz + 8·D·K) bytes / copy bandwidth, 4·nnz·K FLOPs / multiply-add rate)");
            output.WriteLine($"{"shape",-28} {"nnz",10} {"eval ms",10} {"floor ms",10} {"x floor",8} {"GB/s share",10}");
        }
        foreach (SparseShape shape in problems)
        {
            SparseBenchResult r = Benchmark.RunSparse(gpu, shape, repeats, ceiling);
            output.WriteLine(asJson
                ? JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["device"] = r.Device, ["N"] = shape.N, ["D"] = shape.D, ["K"] = shape.K, ["density"] = shape.Density,
                    ["nnz"] = shape.NonZeros, ["eval_ms"] = r.EvaluationMs, ["floor_ms"] = r.FloorMs, ["over_floor"] = r.OverFloor,
                    ["bandwidth_share"] = r.BandwidthShare, ["copy_gbs"] = ceiling.Bandwidth / 1e9, ["fma_gflops"] = ceiling.Flops / 1e9,
                }, JsonOptions)
                : $"{shape,-28} {shape.NonZeros,10} {r.EvaluationMs,10:F1} {r.FloorMs,10:F2} {r.OverFloor,8:F1} {r.BandwidthShare,10:P1}");
            output.Flush();
        }
    }

    /// <summary>Shapes streamed by default: a few hundred MB of host memory.</summary>
    public static readonly string[] StreamShapes = ["200000x256x10"];

    /// <summary>
    /// The streamed full-batch pass of each shape; under mpirun each rank streams its shard (N/P rows) and the pass
    /// ends in the all-reduce, and rank 0 adds every rank's rows/s, their total and the all-reduce's share.
    /// </summary>
    private static int Streamed(Gpu gpu, string[] given, string? cap, int repeats, bool asJson, TextWriter output,
        Distributed.ICommunicator ranks)
    {
        BenchShape[] problems = (given.Length > 0 ? given : StreamShapes).Select(BenchShape.Parse).ToArray();
        if (!asJson)
        {
            output.WriteLine($"streamed full-batch pass on {gpu.Description}; times are medians of {repeats}");
            output.WriteLine($"{"shape",-18} {"cap",10} {"blocks",7} {"copy GB/s",10} {"stream GB/s",12} {"ratio",6} {"pass ms",10}");
        }
        foreach (BenchShape shape in problems)
        {
            long setBytes = 4L * shape.N * (shape.D + 1) / ranks.Size;
            long deviceMemory = cap is null ? Math.Max(1, setBytes / 4) : ByteSize.Parse(cap, "--device-memory");
            StreamResult r = Benchmark.RunStreamed(gpu, shape, deviceMemory, repeats, ranks: ranks);
            output.WriteLine(asJson
                ? JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["device"] = r.Device, ["N"] = shape.N, ["D"] = shape.D, ["K"] = shape.K, ["device_memory"] = r.DeviceMemory,
                    ["block_rows"] = r.BlockRows, ["blocks"] = r.Blocks, ["copy_gbs"] = r.CopyBandwidth / 1e9,
                    ["stream_gbs"] = r.StreamBandwidth / 1e9, ["ratio"] = r.Ratio, ["pass_ms"] = r.PassMs,
                    ["ranks"] = ranks.Size, ["rows_per_s"] = r.RanksRowsPerSecond.Sum(),
                    ["rank_rows_per_s"] = r.RanksRowsPerSecond, ["rank_allreduce_share"] = r.RanksReduceShare,
                }, JsonOptions)
                : $"{shape,-18} {ByteSize.Format(r.DeviceMemory),10} {r.Blocks,7} {r.CopyBandwidth / 1e9,10:F2} " +
                  $"{r.StreamBandwidth / 1e9,12:F2} {r.Ratio,6:F2} {r.PassMs,10:F1}" + PerRank(r));
            output.Flush();
        }
        return 0;
    }

    /// <summary>Rows/s of each rank and in all, and each rank's share of the pass in the all-reduce.</summary>
    private static string PerRank(StreamResult r) =>
        "\n" + string.Join("\n", r.RanksRowsPerSecond.Select((rows, rank) =>
            $"  rank {rank}: {rows / 1e6:F3} M rows/s, all-reduce {100 * r.RanksReduceShare[rank]:F2}% of the pass")) +
        $"\n  total: {r.RanksRowsPerSecond.Sum() / 1e6:F3} M rows/s over {r.RanksRowsPerSecond.Length} rank(s)";

    private static string Row(BenchResult r) =>
        $"{r.Shape,-18} {r.Kernels,-8} {r.StepMs,10:F3} {r.FloorMs,10:F3} {r.StepOverFloor,8:F1} " +
        $"{(double.IsNaN(r.EpochMs) ? "-" : r.EpochMs.ToString("F1")),10} " +
        $"{(double.IsNaN(r.EpochMs) ? "-" : r.EpochOverFloor.ToString("F1")),8}  {r.Batch}";

    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Json(BenchResult r, string version) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["tool"] = "softmaxgpu " + version,
        ["device"] = r.Device,
        ["N"] = r.Shape.N,
        ["D"] = r.Shape.D,
        ["K"] = r.Shape.K,
        ["batch"] = r.Batch,
        ["kernels"] = r.Kernels,
        ["step_ms"] = r.StepMs,
        ["epoch_ms"] = double.IsNaN(r.EpochMs) ? null : r.EpochMs,
        ["floor_ms"] = r.FloorMs,
        ["step_over_floor"] = r.StepOverFloor,
        ["epoch_over_floor"] = double.IsNaN(r.EpochMs) ? null : r.EpochOverFloor,
        ["copy_gbs"] = r.Ceiling.Bandwidth / 1e9,
        ["fma_gflops"] = r.Ceiling.Flops / 1e9,
    }, JsonOptions);
}
