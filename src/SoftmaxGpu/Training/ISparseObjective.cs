namespace SoftmaxGpu.Training;

/// <summary>
/// J(θ) over sparse rows for θ = [Wᵀ (D·K) | b (K)], as L-BFGS minimizes it (<see cref="IObjective"/>), with the score
/// of other rows (validation) under the same θ. One per engine: the host engine's <see cref="SparseObjective{THead}"/>
/// and <see cref="DeviceSparseObjective"/> on an ILGPU accelerator; <see cref="SparseTraining.Objective"/> picks.
/// </summary>
public interface ISparseObjective : IObjective, IDisposable
{
    /// <summary>P = D·K + K.</summary>
    long Parameters { get; }

    /// <summary>λ of (λ/2)‖W‖²: a path over C sets it before each fit, on the same rows (a device's uploaded once).</summary>
    double Lambda { get; set; }

    /// <summary>Mean loss and accuracy of <paramref name="set"/> under θ, without a gradient.</summary>
    (double Loss, double Accuracy) Score(double[] theta, SparseSet set);
}
