namespace SoftmaxGpu.Tests.Reference;

/// <summary>
/// The sparse linear layer's ground truth, in float64 plain loops straight from the CSR rows (no CSC copy, no ILGPU).
/// θ = [Wᵀ (D·K) | b (K)]: Wt[j·K + c] = W[c, j]. CSR: rowStart [rows + 1] (rowStart[0] = 0), columns and values [nnz].
/// Each result comes with its magnitude Σ|terms|, the scale of a float sum's rounding error (cancellation can make
/// the result itself far smaller than its terms).
/// </summary>
public static class SparseReferenceMath
{
    /// <summary>Z [rows, K] = X·W + b: Z[r, c] = b[c] + Σ_{e in row r} values[e]·Wt[columns[e]·K + c].</summary>
    public static (double[] Z, double[] Magnitude) Logits(int[] rowStart, int[] columns, double[] values,
        double[] wt, double[] b, int rows, int k)
    {
        var z = new double[rows * k];
        var magnitude = new double[rows * k];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < k; c++)
            {
                double sum = b[c], size = Math.Abs(b[c]);
                for (int e = rowStart[r]; e < rowStart[r + 1]; e++)
                {
                    double term = values[e] * wt[columns[e] * k + c];
                    sum += term;
                    size += Math.Abs(term);
                }
                z[r * k + c] = sum;
                magnitude[r * k + c] = size;
            }
        return (z, magnitude);
    }

    /// <summary>
    /// dθ = scale·[dWt | db], dWt [D, K] = (Gᵀ·X)ᵀ: dWt[j·K + c] = Σ_r X[r, j]·G[r, c]; db [K] = Σ_r G[r, :]; scattered
    /// row by row from the CSR form, the order the kernels do not use.
    /// </summary>
    public static (double[] DTheta, double[] Magnitude) ParameterGradient(int[] rowStart, int[] columns,
        double[] values, double[] g, int rows, int d, int k, double scale)
    {
        var dTheta = new double[d * k + k];
        var magnitude = new double[d * k + k];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < k; c++)
            {
                double gi = scale * g[r * k + c];
                dTheta[d * k + c] += gi;
                magnitude[d * k + c] += Math.Abs(gi);
                for (int e = rowStart[r]; e < rowStart[r + 1]; e++)
                {
                    dTheta[columns[e] * k + c] += gi * values[e];
                    magnitude[columns[e] * k + c] += Math.Abs(gi * values[e]);
                }
            }
        return (dTheta, magnitude);
    }
}
