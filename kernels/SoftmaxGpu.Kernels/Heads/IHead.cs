using ILGPU;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// One row of K floats where the engine running a head keeps it: a device view in a kernel (<see cref="ViewRow"/>),
/// a pointer into host memory in the host engine (<see cref="PointerRow"/>). Heads are written against this, once.
/// </summary>
public interface IRowMemory
{
    float this[int c] { get; set; }
}

/// <summary>Row elements view[offset + c] of a device (or CPU-accelerator) view.</summary>
public readonly struct ViewRow(ArrayView<float> view, long offset) : IRowMemory
{
    private readonly ArrayView<float> view = view;
    private readonly long offset = offset;

    public float this[int c]
    {
        get => view[offset + c];
        set => view[offset + c] = value;
    }
}

/// <summary>Row elements at[c] in host memory (the host engine).</summary>
public readonly unsafe struct PointerRow(float* at) : IRowMemory
{
    private readonly float* at = at;

    public float this[int c]
    {
        get => at[c];
        set => at[c] = value;
    }
}

/// <summary>A row's loss and whether the row is right (returned by value: an out parameter would put it in local memory).</summary>
public readonly struct RowLoss(float loss, bool hit)
{
    public readonly float Loss = loss;
    public readonly bool Hit = hit;
}

/// <summary>
/// A head: what the model's K logits z of a row mean, as one generic struct that every engine compiles in — the
/// fused kernel, the per-row kernels (<see cref="HeadKernels{THead}"/>) and the host engine — as the backend
/// variants are (<see cref="IKernelVariant"/>). A head gives the outputs q (probabilities), the row's loss against
/// its target and whether the row is right, then G = ∂loss/∂z from q. The target is a class index, or a row y of K
/// targets (soft targets, tag sets, weighted rows: <c>soft</c>). Each head has a float64 reference in the tests.
/// Shapes: z, q, g, y are [K].
/// </summary>
public interface IHead
{
    /// <summary>
    /// q ← the outputs of logits z; where <paramref name="withLoss"/>, returns the row's loss and whether it is
    /// right (else zeros). q may be z itself: each z[c] is read before q[c] is written.
    /// </summary>
    /// <param name="label">The class index (where not <paramref name="soft"/>).</param>
    RowLoss Forward<TRow>(TRow z, TRow q, int k, TRow y, int label, bool soft, bool withLoss)
        where TRow : struct, IRowMemory;

    /// <summary>g ← scale·∂loss/∂z from the outputs q and the target; g may be q itself.</summary>
    void Backward<TRow>(TRow q, int k, TRow y, int label, bool soft, float scale, TRow g)
        where TRow : struct, IRowMemory;
}
