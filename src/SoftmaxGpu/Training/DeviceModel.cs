using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Training;

/// <summary>
/// The model's parameters on the device and the forward pass over a block of rows:
/// Z = X·Wᵀ + b → Q = softmax(Z), row stats (m, log s) → loss and correct count added to <see cref="Totals"/>.
/// theta = [W (K·D) | b (K)]; the work buffers hold up to <see cref="Capacity"/> rows.
/// </summary>
public sealed class DeviceModel : IDisposable
{
    private readonly KernelSet kernels;

    public DeviceModel(Accelerator accelerator, KernelSet kernels, int d, int k, int capacity)
    {
        this.kernels = kernels;
        D = d;
        K = k;
        Capacity = capacity;
        Theta = accelerator.Allocate1D<float>((long)k * d + k);
        Theta.MemSetToZero();
        Logits = accelerator.Allocate1D<float>((long)capacity * k);
        Probabilities = accelerator.Allocate1D<float>((long)capacity * k);
        RowStats = accelerator.Allocate1D<float>(2L * capacity);
        Totals = accelerator.Allocate1D<float>(2);
        Totals.MemSetToZero();
    }

    /// <summary>Rows per forward block when evaluating a whole set: bounds the Z and Q buffers.</summary>
    public const int EvaluationBlockRows = 65536;

    public int D { get; }
    public int K { get; }
    public int Capacity { get; }
    /// <summary>theta: [K·D + K] = W [K, D] then b [K].</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Theta { get; }
    /// <summary>Z: [Capacity, K].</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Logits { get; }
    /// <summary>Q: [Capacity, K]; the trainer overwrites it with G = (Q − Y)/B.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Probabilities { get; }
    /// <summary>[Capacity, 2]: row max m and log Σ exp(z − m) of each row.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> RowStats { get; }
    /// <summary>[2]: accumulated scaled loss, accumulated correct count.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Totals { get; }

    public ArrayView<float> Weights => Theta.View.SubView(0, (long)K * D);
    public ArrayView<float> Bias => Theta.View.SubView((long)K * D, K);

    /// <summary>
    /// Forward pass of <paramref name="rows"/> rows of X: [rows, D]; adds lossScale·Σloss and the correct
    /// count to Totals (pass empty labels and targets to skip the loss).
    /// </summary>
    public void Forward(ArrayView<float> x, ArrayView<int> labels, ArrayView<float> targets, int rows, float lossScale)
    {
        // Z[r, c] = Σ_j X[r, j]·W[c, j] + b[c]: B's element (j, c) is W[c·D + j], the transpose of W.
        kernels.MatMul.Launch(x, Strides.RowMajor(D), Weights, Strides.Transposed(D), Bias, rows, K, D, Logits.View);
        kernels.Softmax.Launch(Logits.View, rows, K, Probabilities.View, RowStats.View);
        if (labels.Length > 0 || targets.Length > 0)
            kernels.CrossEntropy.Launch(Logits.View, RowStats.View, labels, targets, rows, K, lossScale, Totals.View);
    }

    /// <summary>
    /// Mean loss and accuracy of a whole device-resident set, in blocks of Capacity rows.
    /// X: [N, D]; y: [N]; soft targets [N, K] or empty. One read-back at the end.
    /// </summary>
    public (double Loss, double Accuracy) Evaluate(ArrayView<float> x, ArrayView<int> labels, ArrayView<float> targets, int n)
    {
        Totals.MemSetToZero();
        for (int start = 0; start < n; start += Capacity)
        {
            int rows = Math.Min(Capacity, n - start);
            Forward(x.SubView((long)start * D, (long)rows * D),
                labels.Length > 0 ? labels.SubView(start, rows) : labels,
                targets.Length > 0 ? targets.SubView((long)start * K, (long)rows * K) : targets,
                rows, 1f / n);
        }
        float[] totals = Totals.GetAsArray1D();
        return (totals[0], totals[1] / n);
    }

    public void Dispose()
    {
        Theta.Dispose();
        Logits.Dispose();
        Probabilities.Dispose();
        RowStats.Dispose();
        Totals.Dispose();
    }
}
