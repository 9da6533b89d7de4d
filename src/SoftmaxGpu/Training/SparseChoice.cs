using ILGPU.Runtime;
using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels.Host;

namespace SoftmaxGpu.Training;

/// <summary>--sparse: whether LIBSVM rows train kept sparse (CSR) or made dense.</summary>
public enum SparseMode
{
    /// <summary>Sparse below <see cref="SparseChoice.DenseFrom"/> density, or wherever dense rows would not fit memory.</summary>
    Auto,
    /// <summary>Always sparse (an option the sparse path lacks is then an error).</summary>
    On,
    /// <summary>Always dense, as before the sparse path (a set that does not fit is then an error).</summary>
    Off,
}

/// <summary>
/// The decision between sparse and dense training of LIBSVM rows, with the reason in words, and the memory plan of
/// each: made once the non-zeros are counted, before any training buffer exists, so a set that fits neither way
/// is one clear error, never the out-of-memory killer. Sparse rows on a device (<see cref="DeviceSparseObjective"/>)
/// are planned against the device's memory once it is open (<see cref="DeviceBlocks"/>).
/// </summary>
public sealed record SparseChoice(bool Sparse, string Why)
{
    /// <summary>
    /// Density from which auto makes rows dense. Measured on the host engine (bench/RESULTS.md, "sparse or dense":
    /// `bench NxDxK` against `bench NxDxK@density`): at 60000×784×10 the sparse pass is 1.4× faster than the dense step
    /// at 10%, level at 19% (MNIST's density); at 20000×2000×57, 2.9× faster at 10% and 1.6× at 20%. So rows go
    /// sparse below 10%, where they win on every shape measured, and MNIST as LIBSVM stays dense, as fast as before.
    /// REVIEW: the sparse kernels on a GPU (<see cref="DeviceSparseObjective"/>) are not measured against the dense
    /// engines there yet; the threshold is the host's.
    /// </summary>
    public const double DenseFrom = 0.10;

    /// <summary>
    /// Host bytes of sparse L-BFGS per parameter for P parameters: θ, trial θ and two gradients in float64; from
    /// <see cref="LbfgsOptimizer.History32From"/> parameters m = 5 curvature pairs (d, y) and a pair in flight in
    /// bfloat16 (<see cref="GramCurvatureHistory"/>: the direction is the pair in flight's d), below that the direction and m = 10 pairs in
    /// float64 (<see cref="CurvatureHistory"/>); the float32 weights that score validation rows.
    /// </summary>
    public static long BytesPerParameter(long parameters) =>
        8 * 4 + (parameters >= LbfgsOptimizer.History32From ? 2 * (2 * LbfgsOptimizer.GramHistory + 2) : 8 * (1 + 2 * LbfgsOptimizer.History + 2)) + 4;

    /// <summary>
    /// Host bytes sparse training of <paramref name="rows"/> into K classes needs: CSR and its CSC copy, Z/G (rows padded
    /// to whole vectors, <see cref="SparseHostStep.StrideOf"/>) and the workers' column segments
    /// (<see cref="SparseHostStep.Buffers"/>), the target rows Y [N, K] where there are (<paramref name="targetRows"/>: tag
    /// sets, smoothing, class weights), and the optimizer (on a device the host keeps the same, less Z/G; the device's
    /// share is <see cref="SparseBlocks.ResidentBytes"/>).
    /// </summary>
    public static long SparseBytes(SparseTable rows, int k, bool targetRows = false) =>
        2 * rows.X.Bytes + 4L * rows.Dim * Environment.ProcessorCount
        + 4L * rows.Rows * (SparseHostStep.StrideOf(k) + (targetRows ? k : 0))
        + BytesPerParameter((long)rows.Dim * k + k) * ((long)rows.Dim * k + k);

    /// <summary>
    /// Host bytes cross-validation on sparse rows adds to <see cref="SparseBytes"/> (<see cref="SparseCrossValidation"/>):
    /// one fold of F at a time, its training rows as CSR with their CSC copy, (F−1)/F of the set's each, and its held-out
    /// rows, 1/F; the set's own CSC copy is made only for the refit, after the folds. So 2·(F−1)/F + 1/F of the CSR, less
    /// the set's CSC that <see cref="SparseBytes"/> counts: at most the CSR once more; and where there are target rows
    /// (class weights, smoothing), the fold's copy of them and its reweighted copy: at most Y [N, K] twice.
    /// </summary>
    public static long FoldBytes(SparseRows rows, int k, bool targetRows) => rows.Bytes + (targetRows ? 2 * 4L * rows.Rows * k : 0);

    /// <summary>
    /// Host bytes of dense training on the rows made dense: the rows and their standardized copy, and
    /// <see cref="DenseBytesPerParameter"/> a parameter.
    /// </summary>
    public static long DenseBytes(SparseTable rows, int k) =>
        2 * 4L * rows.Rows * rows.Dim + DenseBytesPerParameter * ((long)rows.Dim * k + k);

    /// <summary>
    /// Host bytes a parameter takes in dense training: L-BFGS's state (<see cref="BytesPerParameter"/>) and the dense
    /// engine's θ-sized buffers. A figure from one measurement, not counted buffer by buffer: 3,000 debian-text rows made
    /// dense (46 classes × 298,448 features, 13.7 M parameters) peaked at 12.5 GB, 3.6 GB of them the rows; 220 bytes a
    /// parameter plans ~10 GB of that.
    /// </summary>
    private const long DenseBytesPerParameter = 220;

    /// <summary>Bytes this process may use: what the runtime sees as available (the machine's, or a container's limit).</summary>
    public static long Available => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>K: the start model's classes, else the rows' classes (tags).</summary>
    private static int Classes(SparseTable rows, TrainingSpec spec) =>
        spec.Start?.K ?? (spec.MultiLabel ? TagTable.DistinctTags(rows.Source, rows.Labels) : rows.DistinctClasses()).Length;

    /// <summary>Sparse or dense for <paramref name="rows"/> under <paramref name="spec"/>; throws where neither can train.</summary>
    public static SparseChoice For(SparseTable rows, TrainingSpec spec)
    {
        int k = Classes(rows, spec);
        bool targetRows = spec.MultiLabel || SparseTraining.TargetRows(spec.Options);
        long sparseBytes = SparseBytes(rows, k, targetRows) + (spec.Folds is null ? 0 : FoldBytes(rows.X, k, targetRows)),
            denseBytes = DenseBytes(rows, k), available = Available;
        string? lacking = Lacking(spec);
        string sizes = $"{rows.Rows} rows × {rows.Dim} features × {k} classes at density {rows.X.Density:P3}: " +
                       $"sparse training needs {ByteSize.Format(sparseBytes)}, dense rows {ByteSize.Format(denseBytes)}; " +
                       $"{ByteSize.Format(available)} is available";
        bool sparseFits = sparseBytes <= available, denseFits = denseBytes <= available / 2;
        if (spec.Sparse == SparseMode.On)
        {
            if (lacking is not null)
                throw new ArgumentException($"--sparse on: {lacking}");
            return sparseFits ? new(true, "--sparse on")
                : throw new InsufficientMemoryException($"{spec.Data}: {sizes}; reduce the features (or the classes), or use a machine with more memory");
        }
        bool sparse = rows.X.Density < DenseFrom || !denseFits;
        if (sparse && lacking is null && sparseFits)
            return new(true, rows.X.Density < DenseFrom ? $"density below {DenseFrom:P0}" : "dense rows would not fit memory");
        if (denseFits)
            return new(false, sparse
                ? $"rows made dense: {lacking ?? "sparse training would not fit memory"} ({sizes})"
                : $"rows made dense: density {rows.X.Density:P1} is at least {DenseFrom:P0} (--sparse on keeps them sparse)");
        throw new InsufficientMemoryException($"{spec.Data}: {sizes}; " + (lacking is not null
            ? $"the rows must stay sparse, and {lacking}"
            : "neither fits: reduce the features (or the classes), or use a machine with more memory"));
    }

    /// <summary>
    /// <paramref name="rows"/>, which --sparse off makes dense, where they can be: in one array, within half the memory
    /// available (as auto's choice allows them); else one error with the sizes, never the out-of-memory killer.
    /// </summary>
    public static SparseTable RequireDense(SparseTable rows, TrainingSpec spec)
    {
        int k = Classes(rows, spec);
        long values = (long)rows.Rows * rows.Dim, bytes = DenseBytes(rows, k), available = Available;
        if (values <= Array.MaxLength && bytes <= available / 2)
            return rows;
        throw new InsufficientMemoryException(
            $"{spec.Data}: --sparse off: {rows.Rows} rows × {rows.Dim} features made dense are {values:N0} values, " +
            (values > Array.MaxLength ? $"more than one array holds ({Array.MaxLength:N0})"
                : $"{ByteSize.Format(bytes)} to train on, more than half the {ByteSize.Format(available)} available") +
            $"; kept sparse (--sparse auto or on) their non-zeros take {ByteSize.Format(rows.X.Bytes)}");
    }

    /// <summary>
    /// Bytes sparse training may keep on <paramref name="gpu"/>: --device-memory, or <see cref="TrainPlan.DeviceMemoryShare"/>
    /// of the device's memory (ILGPU's CPU accelerator: of the host memory available), as the dense plan allows.
    /// </summary>
    public static long DeviceBudget(Gpu gpu, TrainOptions options) =>
        options.DeviceMemory ?? (long)(DeviceMemory(gpu) * TrainPlan.DeviceMemoryShare);

    /// <summary>The device's memory; ILGPU's CPU accelerator allocates host memory, so the host's available bytes.</summary>
    private static long DeviceMemory(Gpu gpu) => gpu.Accelerator.AcceleratorType == AcceleratorType.CPU
        ? Math.Min(gpu.Accelerator.MemorySize, Available)
        : gpu.Accelerator.MemorySize;

    /// <summary>
    /// How <paramref name="train"/> and <paramref name="validation"/> pass through <paramref name="gpu"/> within what
    /// it may use (<see cref="SparseBlocks.Plan"/>): resident where they fit, else streamed in blocks; one
    /// <see cref="InsufficientMemoryException"/> where not even θ and one row fit.
    /// </summary>
    public static SparseBlocks DeviceBlocks(Gpu gpu, SparseRows train, SparseRows? validation, int k, TrainOptions options)
    {
        string allowed = options.DeviceMemory is null
            ? $"{TrainPlan.DeviceMemoryShare:P0} of {ByteSize.Format(DeviceMemory(gpu))}"
            : "--device-memory";
        return SparseBlocks.Plan(train, validation, k, DeviceBudget(gpu, options), $"--device {gpu.Backend.Name}: {allowed}",
            SparseTraining.TargetRows(options));
    }

    /// <summary>The first option the sparse path does not take yet, in words; null where it takes them all.</summary>
    public static string? Lacking(TrainingSpec spec)
    {
        TrainOptions o = spec.Options;
        return !(o.Optimizer is Optimizers.Auto || o.Optimizer == Optimizers.Lbfgs.Name) || o.MiniBatchAsked
                ? "sparse rows train with lbfgs only so far (no --optimizer newton/adam/sgd, --batch-size, --lr or --patience)"
            : spec.Validation is not null && !DataSource.KindOf(spec.Validation, spec.Format).IsLibSvmRows()
                ? "the validation data must be LIBSVM too (text, or a sparse .sgd file)"
            : null;
    }
}
