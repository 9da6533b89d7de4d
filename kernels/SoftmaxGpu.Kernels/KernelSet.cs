using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>Every kernel of a training step, compiled once for one accelerator and kept.</summary>
public sealed class KernelSet
{
    public KernelSet(Accelerator accelerator) : this(accelerator, new LaunchShape(accelerator))
    {
    }

    public KernelSet(Accelerator accelerator, LaunchShape shape)
    {
        Shape = shape;
        MatMul = new MatMul(accelerator, Shape);
        Softmax = new Softmax(accelerator, Shape);
        CrossEntropy = new CrossEntropy(accelerator, Shape);
        Gradient = new Gradient(accelerator, Shape);
        ColumnSum = new ColumnSum(accelerator, Shape);
        GatherRows = new GatherRows(accelerator, Shape);
        Shuffle = new Shuffle(accelerator, Shape);
        Argmax = new Argmax(accelerator, Shape);
        FusedStep = new FusedStep(accelerator, Shape);
        PartialSum = new PartialSum(accelerator, Shape);
        Sgd = new SgdStep(accelerator, Shape);
        Adam = new AdamStep(accelerator, Shape);
    }

    public LaunchShape Shape { get; }
    public MatMul MatMul { get; }
    public Softmax Softmax { get; }
    public CrossEntropy CrossEntropy { get; }
    public Gradient Gradient { get; }
    public ColumnSum ColumnSum { get; }
    public GatherRows GatherRows { get; }
    public Shuffle Shuffle { get; }
    public Argmax Argmax { get; }
    public FusedStep FusedStep { get; }
    public PartialSum PartialSum { get; }
    public SgdStep Sgd { get; }
    public AdamStep Adam { get; }
}
