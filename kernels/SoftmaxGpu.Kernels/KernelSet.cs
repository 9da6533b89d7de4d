using ILGPU.Runtime;
using SoftmaxGpu.Kernels.Sparse;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// Every kernel of a training step for one accelerator, each compiled at its first use and kept: a run pays
/// only for the kernels its path needs (on the CPU accelerator a compile costs tens of milliseconds each).
/// </summary>
public sealed class KernelSet
{
    private readonly Lazy<MatMul> matMul;
    private readonly Lazy<Softmax> softmax;
    private readonly Lazy<CrossEntropy> crossEntropy;
    private readonly Lazy<Gradient> gradient;
    private readonly Lazy<ColumnSum> columnSum;
    private readonly Lazy<GatherRows> gatherRows;
    private readonly Lazy<Shuffle> shuffle;
    private readonly Lazy<Argmax> argmax;
    private readonly Lazy<FusedStep> fusedStep;
    private readonly Lazy<SgdStep> sgd;
    private readonly Lazy<AdamStep> adam;
    private readonly Lazy<AddInto> addInto;
    private readonly Lazy<SparseLinear> sparseLinear;
    private readonly Accelerator accelerator;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Type, object> extra = new();

    public KernelSet(Accelerator accelerator) : this(accelerator, new LaunchShape(accelerator))
    {
    }

    public KernelSet(Accelerator accelerator, LaunchShape shape)
    {
        this.accelerator = accelerator;
        Shape = shape;
        // One partial-sum kernel (compiled at its first launch) serves the fused pass, the split product and the reductions.
        PartialSum = new PartialSum(accelerator, shape);
        matMul = new(() => new MatMul(accelerator, shape, PartialSum));
        softmax = new(() => new Softmax(accelerator, shape));
        crossEntropy = new(() => new CrossEntropy(accelerator, shape, PartialSum));
        gradient = new(() => new Gradient(accelerator, shape));
        columnSum = new(() => new ColumnSum(accelerator, shape, PartialSum));
        gatherRows = new(() => new GatherRows(accelerator, shape));
        shuffle = new(() => new Shuffle(accelerator, shape));
        argmax = new(() => new Argmax(accelerator, shape));
        fusedStep = new(() => FusedStep.For<SoftmaxHead>(accelerator, shape));
        sgd = new(() => new SgdStep(accelerator, shape));
        adam = new(() => new AdamStep(accelerator, shape));
        addInto = new(() => new AddInto(accelerator, shape));
        sparseLinear = new(() => new SparseLinear(accelerator, shape));
    }

    public LaunchShape Shape { get; }

    /// <summary>
    /// Kernels of a type this set does not list (a new loss's, say), made once per set by
    /// <paramref name="create"/> and kept: a loss or optimizer brings its kernels without editing this class.
    /// </summary>
    public T Get<T>(Func<Accelerator, LaunchShape, T> create) where T : class =>
        (T)extra.GetOrAdd(typeof(T), _ => create(accelerator, Shape));

    /// <summary>
    /// Compiles every kernel of the set now: how a device is checked before it is used (a kernel that this
    /// backend's compiler rejects throws here, not in the middle of training), and what the tests run on
    /// every backend present.
    /// </summary>
    public void CompileAll()
    {
        MatMul.Compile();
        PartialSum.Compile();
        FusedStep.Compile();
        _ = (Softmax, CrossEntropy, Gradient, ColumnSum, GatherRows, Shuffle, Argmax, Sgd, Adam, AddInto, SparseLinear);
    }
    public MatMul MatMul => matMul.Value;
    public Softmax Softmax => softmax.Value;
    public CrossEntropy CrossEntropy => crossEntropy.Value;
    public Gradient Gradient => gradient.Value;
    public ColumnSum ColumnSum => columnSum.Value;
    public GatherRows GatherRows => gatherRows.Value;
    public Shuffle Shuffle => shuffle.Value;
    public Argmax Argmax => argmax.Value;
    public FusedStep FusedStep => fusedStep.Value;
    public PartialSum PartialSum { get; }
    public SgdStep Sgd => sgd.Value;
    public AdamStep Adam => adam.Value;
    public AddInto AddInto => addInto.Value;

    /// <summary>The sparse (CSR) models' logits and gradient.</summary>
    public SparseLinear SparseLinear => sparseLinear.Value;
}
