using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.OpenCL;

namespace SoftmaxGpu.Kernels.Sparse;

/// <summary>
/// The sparse models' parameter gradient from G = ∂L/∂Z of a block, in θ's layout [Wᵀ (D·K) | b (K)]:
/// dWt[j·K + c] = scale·Σ_{e in column j} values[e]·G[rows[e]·K + c] (dW = Gᵀ·X, walked by column of X through its
/// <see cref="CscCopy"/>) and db[c] = scale·Σ_r G[r, c]. One thread per output (grid-stride), c the fastest index;
/// each output is one sum in row order, written once: no atomics, no partials, the same bits on every run.
/// </summary>
/// <remarks>
/// db is the same sum with a column of ones for X, so it is the launch's last row of outputs (j = D) rather than a
/// <see cref="ColumnSum"/> launch: one launch writes the whole gradient, at the precision and scale of dWt.
/// The sums run in float64 where the device has it (<see cref="DoubleSum"/>), else float32 (<see cref="FloatSum"/>).
/// REVIEW: a thread's time is its column's length, so a feature every row has (and db, the column of ones) makes the
/// launch as long as one thread's walk over the block's rows — on a GPU a chain of dependent loads, not bandwidth.
/// Blocks of many thousand rows would want such columns split along their entries, with the partials added in a
/// fixed order (as <see cref="MatMul"/> splits P and <see cref="ColumnSum"/> splits rows). Not measured on a GPU yet.
/// </remarks>
public sealed class CscWeightGradient
{
    private readonly Action<KernelConfig, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>,
        int, int, int, float, ArrayView<float>, ArrayView<float>> kernel;
    private readonly LaunchShape shape;

    /// <param name="float64">Sum in float64 (null: where the device supports it, see <see cref="HasFloat64"/>).</param>
    public CscWeightGradient(Accelerator accelerator, LaunchShape shape, bool? float64 = null)
    {
        this.shape = shape;
        Float64 = float64 ?? HasFloat64(accelerator);
        kernel = Float64
            ? accelerator.LoadStreamKernel<ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>,
                int, int, int, float, ArrayView<float>, ArrayView<float>>(CscWeightGradientKernel<DoubleSum>)
            : accelerator.LoadStreamKernel<ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>,
                int, int, int, float, ArrayView<float>, ArrayView<float>>(CscWeightGradientKernel<FloatSum>);
    }

    /// <summary>Whether the sums run in float64.</summary>
    public bool Float64 { get; }

    /// <summary>CUDA and ILGPU's CPU accelerator always have float64; an OpenCL device when it has cl_khr_fp64.</summary>
    public static bool HasFloat64(Accelerator accelerator) =>
        accelerator.Capabilities is not CLCapabilityContext openCL || openCL.Float64;

    /// <summary>
    /// Output (j, c), j &lt; D: dWt[j·K + c] = scale·Σ values[e]·G[rows[e]·K + c] over column j's entries e in order;
    /// j = D (when <paramref name="db"/> is not empty): db[c] = scale·Σ_r G[r·K + c], r in order.
    /// </summary>
    /// <param name="columnStart">[D + 1]: column j's entries are [columnStart[j], columnStart[j + 1]), columnStart[0] = 0.</param>
    /// <param name="rowIndex">[nnz]: each entry's row within the block (increasing within a column).</param>
    /// <param name="values">[nnz]: the entries' values.</param>
    /// <param name="g">G: [rows, K] row-major.</param>
    /// <param name="rows">Rows of the block (of G).</param>
    /// <param name="d">D.</param>
    /// <param name="k">K.</param>
    /// <param name="scale">Factor on every output (1 when G already carries 1/N).</param>
    /// <param name="dwt">dWt: [D, K] row-major, overwritten.</param>
    /// <param name="db">db: [K], overwritten; empty to leave the bias out.</param>
    /// <typeparam name="TSum">The precision of the sums (see <see cref="ISum"/>).</typeparam>
    public static void CscWeightGradientKernel<TSum>(ArrayView<int> columnStart, ArrayView<int> rowIndex,
        ArrayView<float> values, ArrayView<float> g, int rows, int d, int k, float scale, ArrayView<float> dwt,
        ArrayView<float> db)
        where TSum : struct, ISum
    {
        long stride = (long)Grid.DimX * Group.DimX;
        long weights = (long)d * k;
        long count = db.Length > 0 ? weights + k : weights;
        for (long index = Grid.GlobalIndex.X; index < count; index += stride)
        {
            int j = (int)(index / k);
            int c = (int)(index - (long)j * k);
            var sum = default(TSum);
            if (j < d)
            {
                int end = columnStart[j + 1];
                for (int e = columnStart[j]; e < end; e++)
                    sum.Add(values[e], g[(long)rowIndex[e] * k + c]);
                dwt[index] = sum.Scaled(scale);
            }
            else
            {
                for (int r = 0; r < rows; r++)
                    sum.Add(g[(long)r * k + c]);
                db[c] = sum.Scaled(scale);
            }
        }
    }

    /// <summary>dWt = scale·Gᵀ·X (and db = scale·Σ_r G[r, :] unless <paramref name="db"/> is empty) for one block.</summary>
    public void Launch(ArrayView<int> columnStart, ArrayView<int> rowIndex, ArrayView<float> values,
        ArrayView<float> g, int rows, int d, int k, float scale, ArrayView<float> dwt, ArrayView<float> db)
    {
        long count = (long)d * k + (db.Length > 0 ? k : 0);
        if (count == 0)
            return;
        kernel(shape.GridStride(count, shape.ElementGroup), columnStart, rowIndex, values, g, rows, d, k, scale, dwt, db);
    }
}
