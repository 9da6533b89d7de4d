using ILGPU.Runtime;

namespace SoftmaxGpu.Training;

/// <summary>
/// Full-batch L-BFGS on the <see cref="Objective"/> J(θ) = mean loss + (λ/2)‖W‖² (b unpenalized), the objective
/// scikit-learn minimizes divided by C·N (so its C is λ = 1/(C·N)).
///
/// The device computes every f(θ) and ∇f(θ): one gradient pass of the engine over all N rows (across ranks, over
/// each rank's shard, then one all-reduce: every rank holds the same f and ∇f and takes the same steps). The host keeps θ,
/// the direction and the m curvature pairs in float64 and runs the two-loop recursion: they are K·D + K
/// numbers against the N·D of X, so per evaluation it sends θ and reads ∇ back (P floats each way), and float64
/// curvature pairs keep the quasi-Newton model accurate down to float32's resolution of f.
///
/// Stopping rule, checked in this order each iteration: ‖∇J‖∞ ≤ <see cref="GradientTolerance"/>; the line
/// search finds no lower J; J fell by less than <see cref="RelativeTolerance"/>·max(1, |J|); otherwise the
/// iteration cap (--epochs, default <see cref="DefaultIterations"/>), which the trainer reports as not converged.
/// </summary>
public sealed class LbfgsOptimizer : IOptimizer
{
    /// <summary>m: curvature pairs kept (scikit-learn's and SciPy's default is 10).</summary>
    public const int History = 10;
    /// <summary>Iterations when --epochs is not given (scikit-learn's max_iter default is 100; its examples use 1000).</summary>
    public const int DefaultIterations = 1000;
    /// <summary>Stop when the largest gradient entry is below this.</summary>
    public const double GradientTolerance = 1e-6;
    /// <summary>Stop when an iteration lowers J by less than this fraction of |J| (SciPy's factr 1e7 × float64 ε).</summary>
    public const double RelativeTolerance = 2.2e-9;
    /// <summary>
    /// Successive small decreases before the relative rule stops: J is summed in float32, so one iteration's
    /// measured decrease carries rounding noise of about 1e-7·|J| and a single small one proves nothing.
    /// </summary>
    public const int StalledIterations = 3;
    /// <summary>Armijo constant c₁: accept t when J(θ + t·d) ≤ J(θ) + c₁·t·∇Jᵀd.</summary>
    public const double SufficientDecrease = 1e-4;
    /// <summary>Backtracking steps before the line search gives up (float32 cannot resolve a smaller decrease).</summary>
    public const int MaxBacktracks = 30;

    private readonly IObjective objective;
    private readonly LinkedList<(double[] S, double[] Y, double Rho)> pairs = new();
    private double[] position;
    private Evaluation current;
    private int evaluations;
    private int reported; // evaluations already counted in an outcome
    private int stalled; // successive iterations that lowered J by less than the relative tolerance

    /// <summary>f(θ), ∇f(θ), and the mean loss and accuracy behind them.</summary>
    private readonly record struct Evaluation(double J, double[] G, double Loss, double Accuracy);

    public LbfgsOptimizer(OptimizerContext context)
        : this(context.Objective, context.Engine.Theta.GetAsArray1D().Select(v => (double)v).ToArray()) // zeros, or a warm start
    {
    }

    /// <summary>L-BFGS on any objective (dense rows on an engine, sparse rows on the host) from θ = <paramref name="start"/>.</summary>
    public LbfgsOptimizer(IObjective objective, double[] start)
    {
        this.objective = objective;
        position = start;
        current = Evaluate(position);
    }

    /// <summary>θ at the last accepted step.</summary>
    public ReadOnlySpan<double> Position => position;

    public string Details => $"{evaluations} passes over the data";

    public EpochOutcome Run(int iteration)
    {
        double[] g = current.G;
        if (MaxAbs(g) <= GradientTolerance)
            return Outcome($"‖∇J‖∞ ≤ {GradientTolerance:G2}");
        double[] direction = Direction(g, pairs);
        double slope = Dot(g, direction);
        if (!(slope < 0))
        {
            // Not a descent direction (only rounding can do this): forget the history, go downhill.
            pairs.Clear();
            direction = g.Select(v => -v).ToArray();
            slope = Dot(g, direction);
        }
        // The first step has no curvature yet: scale it to a unit move in θ.
        double step = pairs.Count == 0 ? Math.Min(1, 1 / Math.Sqrt(Dot(g, g))) : 1;
        if (LineSearch(direction, slope, step) is not (double[] trial, Evaluation next))
        {
            Evaluate(position); // leave θ on the device where the host's position is
            return Outcome("the line search found no lower J (float32 resolution of the objective reached)");
        }

        var s = new double[trial.Length];
        var yDiff = new double[trial.Length];
        for (int i = 0; i < s.Length; i++)
        {
            s[i] = trial[i] - position[i];
            yDiff[i] = next.G[i] - g[i];
        }
        double curvature = Dot(s, yDiff);
        if (curvature > 1e-12 * Dot(yDiff, yDiff)) // J is convex; skip pairs that rounding made flat
        {
            pairs.AddFirst((s, yDiff, 1 / curvature));
            if (pairs.Count > History)
                pairs.RemoveLast();
        }
        double decrease = current.J - next.J;
        (position, current) = (trial, next);
        stalled = decrease <= RelativeTolerance * Math.Max(1, Math.Abs(next.J)) ? stalled + 1 : 0;
        return Outcome(stalled >= StalledIterations
            ? $"J fell by less than {RelativeTolerance:G2}·max(1, |J|) in {StalledIterations} successive iterations"
            : null);
    }

    /// <summary>
    /// Backtracking from <paramref name="step"/> along d until the Armijo condition holds; each trial is one
    /// pass on the device, which leaves θ at the accepted point. Null when no step lowers J.
    /// </summary>
    private (double[] Trial, Evaluation Next)? LineSearch(double[] direction, double slope, double step)
    {
        double f = current.J;
        double[] trial = new double[position.Length];
        for (int backtrack = 0; backtrack < MaxBacktracks; backtrack++)
        {
            for (int i = 0; i < trial.Length; i++)
                trial[i] = position[i] + step * direction[i];
            Evaluation next = Evaluate(trial);
            if (!double.IsFinite(next.J))
            {
                step *= 0.1; // overshot into overflow: come back much closer
                continue;
            }
            if (next.J <= f + SufficientDecrease * step * slope)
                return (trial, next);
            // Minimizer of the quadratic through J(0), J'(0) and J(step), kept within [0.1, 0.5]·step.
            double quadratic = -slope * step * step / (2 * (next.J - f - slope * step));
            step = Math.Clamp(quadratic, 0.1 * step, 0.5 * step);
        }
        return null;
    }

    private EpochOutcome Outcome(string? converged)
    {
        int passes = evaluations - reported;
        reported = evaluations;
        return new EpochOutcome(current.Loss, current.Accuracy) { Objective = current.J, Converged = converged, Passes = passes };
    }

    /// <summary>J(θ), ∇J(θ), and the mean loss and accuracy behind them: one pass over X on the device.</summary>
    private Evaluation Evaluate(double[] theta)
    {
        evaluations++;
        (double j, double[] gradient, double loss, double accuracy) = objective.Evaluate(theta);
        return new Evaluation(j, gradient, loss, accuracy);
    }

    public void Dispose()
    {
    }

    /// <summary>d = −H·g by the two-loop recursion over the pairs (newest first), H₀ = (sᵀy / yᵀy)·I.</summary>
    public static double[] Direction(double[] g, IReadOnlyCollection<(double[] S, double[] Y, double Rho)> pairs)
    {
        double[] q = (double[])g.Clone();
        var alpha = new double[pairs.Count];
        int index = 0;
        foreach ((double[] s, double[] y, double rho) in pairs)
        {
            alpha[index] = rho * Dot(s, q);
            Axpy(-alpha[index], y, q);
            index++;
        }
        if (pairs.Count > 0)
        {
            (double[] s, double[] y, _) = pairs.First();
            double gamma = Dot(s, y) / Dot(y, y);
            for (int i = 0; i < q.Length; i++)
                q[i] *= gamma;
        }
        foreach ((double[] s, double[] y, double rho) in pairs.Reverse())
        {
            index--;
            double beta = rho * Dot(y, q);
            Axpy(alpha[index] - beta, s, q);
        }
        for (int i = 0; i < q.Length; i++)
            q[i] = -q[i];
        return q;
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
            sum += a[i] * b[i];
        return sum;
    }

    /// <summary>y += a·x.</summary>
    private static void Axpy(double a, double[] x, double[] y)
    {
        for (int i = 0; i < y.Length; i++)
            y[i] += a * x[i];
    }

    private static double MaxAbs(double[] v) => v.Max(Math.Abs);
}
