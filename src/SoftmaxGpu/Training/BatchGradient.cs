using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Training;

/// <summary>
/// ∇ of the mean cross-entropy over one batch, with the batch's loss and correct count added to the model's
/// Totals, all on the device. Where W fits in shared memory (small K) it is the fused pass — one read of X,
/// nothing of size B×K in device memory; otherwise one kernel per operation:
/// gather → Z = X·Wᵀ + b → softmax → loss → G = (Q − Y)/B → dW = Gᵀ·X, db = Σ G.
/// Buffers are allocated once here, never per step.
/// </summary>
public sealed class BatchGradient : IDisposable
{
    private readonly KernelSet kernels;
    private readonly DeviceModel model;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? partials;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? batchX;
    private readonly MemoryBuffer1D<int, Stride1D.Dense>? batchY;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? batchTargets;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? workspace;

    /// <param name="capacity">Most rows of one batch.</param>
    /// <param name="fused">Force the fused pass (true) or the kernel-per-operation path (false); null: fused where it fits.</param>
    /// <param name="softTargets">Whether batches come with soft targets (sizes the gather buffer).</param>
    public BatchGradient(Accelerator accelerator, KernelSet kernels, DeviceModel model, int capacity, bool? fused = null,
        bool softTargets = false)
    {
        this.kernels = kernels;
        this.model = model;
        bool fits = kernels.FusedStep.Fits(model.D, model.K);
        if (fused == true && !fits)
            throw new ArgumentException($"a {model.D}×{model.K} model does not fit the fused pass's shared memory on this device");
        Fused = fused ?? fits;
        if (Fused)
        {
            int length = model.K * model.D + model.K + 2;
            partials = accelerator.Allocate1D<float>((long)kernels.FusedStep.Groups(capacity, model.D, model.K) * length);
            return;
        }
        if (model.Capacity < capacity)
            throw new ArgumentException($"the model's work buffers hold {model.Capacity} rows, not {capacity}");
        batchX = accelerator.Allocate1D<float>((long)capacity * model.D);
        batchY = accelerator.Allocate1D<int>(capacity);
        batchTargets = softTargets ? accelerator.Allocate1D<float>((long)capacity * model.K) : null;
        long slices = kernels.MatMul.WorkspaceFloats(model.K, model.D, capacity);
        workspace = slices > 0 ? accelerator.Allocate1D<float>(slices) : null;
    }

    /// <summary>Whether the fused single-pass kernel computes the gradient.</summary>
    public bool Fused { get; }

    /// <summary>
    /// grad = ∇ mean CE over the batch: rows order[0..rows) of X (or X's first rows when order is empty);
    /// adds lossScale·Σ loss and the correct count to the model's Totals.
    /// </summary>
    /// <param name="x">X: [N, D].</param>
    /// <param name="order">Batch rows as indices into X: [rows]; empty for X's first rows.</param>
    /// <param name="labels">y: [N].</param>
    /// <param name="targets">Y: [N, K] soft targets, or empty.</param>
    /// <param name="grad">[K·D + K]: dW then db, overwritten.</param>
    public void Compute(ArrayView<float> x, ArrayView<int> order, ArrayView<int> labels, ArrayView<float> targets,
        int rows, float lossScale, ArrayView<float> grad)
    {
        int d = model.D;
        int k = model.K;
        if (Fused)
        {
            FusedBatch batch = kernels.FusedStep.Batch(rows, d, k, 1f / rows, lossScale);
            int groups = kernels.FusedStep.Launch(x, order, labels, targets, model.Theta.View, batch, partials!.View);
            kernels.PartialSum.Launch(partials.View, groups, batch.PartialLength, grad, model.Totals.View);
            return;
        }

        if (order.Length > 0)
        {
            kernels.GatherRows.Launch(x, order, d, batchX!.View);
            kernels.GatherRows.Launch(labels, order, 1, batchY!.View);
            if (targets.Length > 0)
                kernels.GatherRows.Launch(targets, order, k, batchTargets!.View);
            x = batchX.View;
            labels = batchY.View;
            targets = targets.Length > 0 ? batchTargets!.View : default;
        }
        // Z, Q, (m, log s), and the loss added to Totals.
        model.Forward(x, labels, targets, rows, lossScale);
        // G = (Q − Y)/B, in place over Q.
        ArrayView<float> g = model.Probabilities.View;
        kernels.Gradient.Launch(g, labels, targets, rows, k, g);
        // dW[c, j] = Σ_r G[r, c]·X[r, j]: A = Gᵀ ([K, B] read from [B, K]), B = X [B, D]; the rows split
        // into slices when K×D alone gives the device too few groups.
        kernels.MatMul.Launch(g, Strides.Transposed(k), x, Strides.RowMajor(d), ArrayView<float>.Empty,
            k, d, rows, grad.SubView(0, (long)k * d), workspace is null ? default : workspace.View);
        kernels.ColumnSum.Launch(g, rows, k, grad.SubView((long)k * d, k));
    }

    public void Dispose()
    {
        partials?.Dispose();
        batchX?.Dispose();
        batchY?.Dispose();
        batchTargets?.Dispose();
        workspace?.Dispose();
    }
}
