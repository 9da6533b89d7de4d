using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels.Sparse;

/// <summary>
/// Z = X·W + b for a block of CSR rows and the sparse models' θ = [Wᵀ (D·K) | b (K)]:
/// Z[r, c] = b[c] + Σ_{e in row r} values[e]·Wt[columns[e]·K + c], one thread per element of Z (grid-stride).
/// </summary>
/// <remarks>
/// Thread per (r, c) with c the fastest index, rather than a group per row:
/// <list type="bullet">
/// <item>Consecutive threads read consecutive floats of the same row of Wᵀ (coalesced once K ≥ a warp) and the same
/// columns[e], values[e] (one broadcast load), and write consecutive floats of Z.</item>
/// <item>No barrier, no shared memory, no shuffle: the same code runs on CUDA, on PoCL (which cannot compile a
/// shuffle) and on ILGPU's CPU accelerator, whose groups are one thread and whose barriers cost ~0.2 ms.</item>
/// <item>Each element is one sum in the row's entry order, in float, as the dense direct product sums along D:
/// the same bits on every run and at every grid size.</item>
/// </list>
/// The cost: threads of a warp that span several rows (K below the warp) wait for the longest row, and each element
/// re-reads its row's indices (cached). A group per row with a loop over c would suit rows of thousands of entries.
/// </remarks>
public sealed class CsrLogits
{
    private readonly Action<KernelConfig, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>,
        ArrayView<float>, int, int, ArrayView<float>> kernel;
    private readonly LaunchShape shape;

    public CsrLogits(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        kernel = accelerator.LoadStreamKernel<ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>,
            ArrayView<float>, int, int, ArrayView<float>>(CsrLogitsKernel);
    }

    /// <summary>
    /// Z[r, c] = b[c] + Σ_e values[e]·Wt[columns[e]·K + c] over row r's entries e in order, summed in float from b[c]
    /// (as <see cref="MatMul.MatMulDirectKernel"/> starts from the bias). A block's row offsets are those of the
    /// whole set: entry e of row r is at columns[e − rowStart[0]], so a block is uploaded without rebasing.
    /// </summary>
    /// <param name="rowStart">[rows + 1]: row r's entries are [rowStart[r], rowStart[r + 1]) less rowStart[0].</param>
    /// <param name="columns">[nnz]: the block's feature indices (0-based, increasing in a row), from its first entry.</param>
    /// <param name="values">[nnz]: the block's values, from its first entry.</param>
    /// <param name="wt">Wᵀ: [D, K] row-major, Wt[j·K + c] = W[c, j].</param>
    /// <param name="bias">b: [K]; empty for none.</param>
    /// <param name="rows">Rows of the block.</param>
    /// <param name="k">K.</param>
    /// <param name="z">Z: [rows, K] row-major, overwritten.</param>
    public static void CsrLogitsKernel(ArrayView<int> rowStart, ArrayView<int> columns, ArrayView<float> values,
        ArrayView<float> wt, ArrayView<float> bias, int rows, int k, ArrayView<float> z)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        long count = (long)rows * k;
        int first = rowStart[0];
        for (long index = Grid.GlobalIndex.X; index < count; index += stride)
        {
            int r = (int)(index / k);
            int c = (int)(index - (long)r * k);
            float acc = bias.Length > 0 ? bias[c] : 0f;
            int end = rowStart[r + 1] - first;
            for (int e = rowStart[r] - first; e < end; e++)
                acc += values[e] * wt[(long)columns[e] * k + c];
            z[index] = acc;
        }
    }

    /// <summary>Z = X·W + b over a block of <paramref name="rows"/> CSR rows (see <see cref="CsrLogitsKernel"/>).</summary>
    public void Launch(ArrayView<int> rowStart, ArrayView<int> columns, ArrayView<float> values, ArrayView<float> wt,
        ArrayView<float> bias, int rows, int k, ArrayView<float> z)
    {
        if (rows == 0)
            return;
        kernel(shape.GridStride((long)rows * k, shape.ElementGroup), rowStart, columns, values, wt, bias, rows, k, z);
    }
}
