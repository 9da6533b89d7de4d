namespace SoftmaxGpu.Training;

/// <summary>
/// The implicit centring both sparse objectives share (<see cref="SparseObjective{THead}"/> on the host engine,
/// <see cref="DeviceSparseObjective"/> on a device), for θ = [Wᵀ (D·K) | b (K)] and μ [D] the scaled columns' means:
/// the model on centred rows, z = W·(x − μ) + b, is W·x + b′ with b′ = b − W·μ, so a pass runs on the uncentred rows
/// with the bias b′, and the gradient follows: ∂J/∂Wᵀ[j, c] = (Xᵀ·G)[j, c] − μ_j·∂J/∂b_c. Both cost O(D·K), nothing
/// per row. μ null (not centred): b′ = b and no correction. In one process the host engine's pass does both inside
/// its column walks instead (<see cref="Kernels.Host.SparseHostStep.Model"/>), so θ and ∇ are each touched once; it
/// uses these for scoring and across MPI ranks (where the correction waits for the ranks' sums).
/// </summary>
public static class SparseCentring
{
    /// <summary>Wᵀ ← θ's weights in float; b′ ← b − W·μ, summed in float64 and rounded once.</summary>
    /// <param name="theta">θ: [D·K + K] in float64.</param>
    /// <param name="weights">Wᵀ: [D·K], written.</param>
    /// <param name="bias">b′: [K], written.</param>
    public static void Load(ReadOnlySpan<double> theta, double[]? centre, int d, int k, Span<float> weights, Span<float> bias)
    {
        for (int i = 0; i < weights.Length; i++)
            weights[i] = (float)theta[i];
        var shifted = new double[k];
        for (int c = 0; c < k; c++)
            shifted[c] = theta[d * k + c];
        if (centre is not null)
            for (int j = 0; j < d; j++)
                if (centre[j] != 0)
                    for (int c = 0; c < k; c++)
                        shifted[c] -= centre[j] * theta[j * k + c];
        for (int c = 0; c < k; c++)
            bias[c] = (float)shifted[c];
    }

    /// <summary>∂J/∂Wᵀ[j, c] −= μ_j·∂J/∂b_c: the gradient through b′ = b − W·μ, in place.</summary>
    /// <param name="gradient">[D·K + K]: the pass's gradient with respect to [Wᵀ | b′].</param>
    public static void Uncentre(Span<double> gradient, double[]? centre, int d, int k)
    {
        if (centre is null)
            return;
        for (int j = 0; j < d; j++)
            if (centre[j] != 0)
                for (int c = 0; c < k; c++)
                    gradient[j * k + c] -= centre[j] * gradient[d * k + c];
    }
}
