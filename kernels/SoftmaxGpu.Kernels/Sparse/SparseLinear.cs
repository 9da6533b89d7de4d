using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels.Sparse;

/// <summary>
/// The linear layer of a sparse model over θ = [Wᵀ (D·K) | b (K)] — Wᵀ row j is feature j's K weights — and its two
/// products with X: <see cref="Logits"/> (Z = X·W + b, from the CSR rows) and <see cref="WeightGradient"/>
/// (dθ = [Gᵀ·X | Σ_r G], from the block's <see cref="CscCopy"/>), both deterministic and free of atomics.
/// </summary>
public sealed class SparseLinear
{
    private readonly CsrLogits logits;
    private readonly CscWeightGradient gradient;

    /// <param name="float64">Gradient sums in float64 (null: where the device has it; see <see cref="CscWeightGradient"/>).</param>
    public SparseLinear(Accelerator accelerator, LaunchShape shape, bool? float64 = null)
    {
        logits = new CsrLogits(accelerator, shape);
        gradient = new CscWeightGradient(accelerator, shape, float64);
    }

    /// <summary>Whether <see cref="WeightGradient"/> sums in float64.</summary>
    public bool Float64 => gradient.Float64;

    /// <summary>
    /// Z [rows, K] = X·W + b for a block of CSR rows: <paramref name="rowStart"/> [rows + 1] holds the whole set's
    /// offsets, <paramref name="columns"/> and <paramref name="values"/> start at the block's first entry.
    /// </summary>
    /// <param name="theta">θ: [D·K + K]; its Wᵀ and b are read.</param>
    public void Logits(ArrayView<int> rowStart, ArrayView<int> columns, ArrayView<float> values,
        ArrayView<float> theta, int rows, int d, int k, ArrayView<float> z)
    {
        (ArrayView<float> wt, ArrayView<float> bias) = Split(theta, d, k, nameof(theta));
        logits.Launch(rowStart, columns, values, wt, bias, rows, k, z);
    }

    /// <summary>
    /// dθ [D·K + K] = scale·[Gᵀ·X | Σ_r G[r, :]] for a block of <paramref name="rows"/> rows, from its CSC copy
    /// (<paramref name="columnStart"/> [D + 1], <paramref name="rowIndex"/> and <paramref name="values"/> [nnz])
    /// and G [rows, K]. Every element of dθ is overwritten.
    /// </summary>
    public void WeightGradient(ArrayView<int> columnStart, ArrayView<int> rowIndex, ArrayView<float> values,
        ArrayView<float> g, int rows, int d, int k, float scale, ArrayView<float> dTheta)
    {
        (ArrayView<float> dwt, ArrayView<float> db) = Split(dTheta, d, k, nameof(dTheta));
        gradient.Launch(columnStart, rowIndex, values, g, rows, d, k, scale, dwt, db);
    }

    /// <summary>θ's (or dθ's) two parts: Wᵀ [D·K] and b [K].</summary>
    public static (ArrayView<float> Wt, ArrayView<float> Bias) Split(ArrayView<float> theta, int d, int k, string name = "theta")
    {
        long weights = (long)d * k;
        if (theta.Length != weights + k)
            throw new ArgumentException($"{name} of D = {d}, K = {k} has {weights + k} floats, got {theta.Length}", name);
        return (theta.SubView(0, weights), theta.SubView(weights, k));
    }
}
