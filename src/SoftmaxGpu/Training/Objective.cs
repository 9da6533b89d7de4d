using ILGPU.Runtime;

namespace SoftmaxGpu.Training;

/// <summary>
/// A smooth penalty on θ, part of the objective every optimizer minimizes. A non-smooth one (L1) is not this:
/// it goes to an optimizer that handles it (OWL-QN, proximal steps) rather than into f.
/// </summary>
public interface IRegularizer
{
    /// <summary>Adds the penalty of <paramref name="theta"/> to <paramref name="objective"/> and its gradient to <paramref name="gradient"/>.</summary>
    double AddTo(double objective, ReadOnlySpan<double> theta, Span<double> gradient);
}

/// <summary>(λ/2)·‖θ_block‖² over one block of θ (the linear model's W; b is not penalized).</summary>
public sealed record L2Penalty(double Lambda, ParameterBlock Block) : IRegularizer
{
    public double AddTo(double objective, ReadOnlySpan<double> theta, Span<double> gradient)
    {
        int first = checked((int)Block.Offset), last = checked((int)(Block.Offset + Block.Length));
        for (int i = first; i < last; i++)
        {
            objective += 0.5 * Lambda * theta[i] * theta[i];
            gradient[i] += Lambda * theta[i];
        }
        return objective;
    }

    /// <summary>(λ/2)·Σθ² from the sum of squares over the block (a pass that reads θ anyway sums them).</summary>
    public double Of(double squares) => 0.5 * Lambda * squares;
}

/// <summary>
/// What a full-batch optimizer minimizes: J(θ) and ∇J(θ) in float64, with the mean loss and accuracy behind them. The
/// dense engines' <see cref="Objective"/> is one; the sparse rows' <see cref="SparseObjective{THead}"/> another.
/// </summary>
public interface IObjective
{
    /// <summary>J(θ), with ∇J(θ) written into <paramref name="gradient"/> [P], and the mean loss and accuracy behind them.</summary>
    (double J, double Loss, double Accuracy) Evaluate(double[] theta, double[] gradient);
}

/// <summary>
/// J(θ) = the head's (weighted) mean loss over the training rows + Σ smooth regularizers, with its gradient: what
/// full-batch optimizers call, one pass of the engine over the data per evaluation (across ranks, their sum).
/// The mini-batch optimizers' kernels fuse the L2 term into their update (<see cref="L2"/>).
/// Newton (<see cref="NewtonOptimizer"/>) does not use it: its small models' exact Hessian is computed in float64 on the
/// host (<see cref="ExactSoftmaxObjective"/>); a Hessian-vector product here would be one more pass of the engine.
/// </summary>
public sealed class Objective(GradientEngine engine, TrainingData train, IReadOnlyList<IRegularizer> regularizers) : IObjective
{
    /// <summary>The training objective of a plan: the engine's mean loss + (λ/2)‖W‖².</summary>
    public static Objective For(GradientEngine engine, TrainingData train, TrainPlan plan) =>
        new(engine, train, [new L2Penalty(plan.WeightDecay, engine.Layout[ParameterLayout.Weights])]);

    public IReadOnlyList<IRegularizer> Regularizers => regularizers;

    /// <summary>The L2 penalty, for the mini-batch kernels that apply it in their update.</summary>
    public L2Penalty L2 => regularizers.OfType<L2Penalty>().Single();

    /// <summary>J(θ), ∇J(θ) into <paramref name="gradient"/>, and the mean loss and accuracy behind them; leaves θ on the device.</summary>
    public (double J, double Loss, double Accuracy) Evaluate(double[] theta, double[] gradient)
    {
        engine.Theta.CopyFromCPU(theta.Select(v => (float)v).ToArray());
        engine.ResetTotals();
        engine.FullBatchGradient(train);
        (double loss, long correct) = engine.ReadTotals();
        float[] deviceGradient = engine.Grad.GetAsArray1D();
        for (int i = 0; i < deviceGradient.Length; i++)
            gradient[i] = deviceGradient[i];
        double objective = loss;
        foreach (IRegularizer regularizer in regularizers)
            objective = regularizer.AddTo(objective, theta, gradient);
        return (objective, loss, (double)correct / train.TotalRows);
    }

    /// <summary>J(θ), a new ∇J(θ), and the mean loss and accuracy behind them (tests).</summary>
    public (double J, double[] Gradient, double Loss, double Accuracy) Evaluate(double[] theta)
    {
        var gradient = new double[theta.Length];
        (double j, double loss, double accuracy) = Evaluate(theta, gradient);
        return (j, gradient, loss, accuracy);
    }
}
