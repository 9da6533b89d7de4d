using ILGPU.Runtime;

namespace SoftmaxGpu.Training;

/// <summary>
/// Full-batch L-BFGS on an objective (<see cref="IObjective"/>: the engines' <see cref="Objective"/> over dense rows,
/// <see cref="SparseObjective{THead}"/> over sparse ones) J(θ) = mean loss + (λ/2)‖W‖² (b unpenalized), the objective
/// scikit-learn minimizes divided by C·N (so its C is λ = 1/(C·N)).
///
/// The engine computes every f(θ) and ∇f(θ): one gradient pass over all N rows (across ranks, over each rank's
/// shard, then one all-reduce: every rank holds the same f and ∇f and takes the same steps). The host keeps θ and
/// ∇f in float64 and runs the two-loop recursion over the m curvature pairs (<see cref="CurvatureHistory"/>):
/// float64 pairs keep the quasi-Newton model accurate down to float32's resolution of f, and the recursion starts from a
/// diagonal H₀ that the pairs update (Gilbert and Lemaréchal), so each weight takes a step of its own scale. Beyond a million parameters
/// the pairs are bfloat16 and the recursion runs on their Gram matrix (<see cref="GramCurvatureHistory"/>: two passes
/// over the pairs an iteration, on every core), because there the passes over the pairs cost as much as the pass
/// over the data.
///
/// Each step backtracks from the quasi-Newton step until J shows a sufficient decrease (Armijo), or, where J's float32
/// rounding hides the decrease, until the slopes at both ends show it (<see cref="ApproximateDecrease"/>).
///
/// Stopping rule, checked in this order each iteration: ‖∇J‖∞ ≤ <see cref="GradientTolerance"/>; the line
/// search finds no lower J; J fell by less than <see cref="RelativeTolerance"/>·max(1, |J|) in
/// <see cref="StalledIterations"/> successive iterations, once m steps were taken — the fall measured by the slopes at
/// both ends of the step, not by J's float32 sums, whose rounding near the optimum is larger than it; otherwise the
/// iteration cap (--epochs, default <see cref="DefaultIterations"/>), which the trainer reports as not converged.
/// </summary>
public sealed class LbfgsOptimizer : IFullBatchOptimizer
{
    /// <summary>m: curvature pairs kept (scikit-learn's and SciPy's default is 10).</summary>
    public const int History = 10;
    /// <summary>
    /// m beyond a million parameters (<see cref="GramCurvatureHistory"/>), where each pair costs two reads of a P-long
    /// bfloat16 vector pair an iteration. Measured on the sparse sets of bench/RESULTS.md (17 M and 21 M parameters,
    /// one run each, same machine): m = 3: 284 and 282 iterations, 64.5 and 107.4 s; m = 5: 244 and 213, 49.2 and
    /// 76.2 s; m = 10: 233 and 234, 63.8 and 107.5 s — the optimum's J the same within 2e-7. Those were with the scalar
    /// H₀; with the diagonal one (debian-text, one run each, the pairs as float64 vectors) m = 5 took 109 iterations, m = 10 107.
    /// </summary>
    public const int GramHistory = 5;
    /// <summary>Iterations when --epochs is not given (scikit-learn's max_iter default is 100; its examples use 1000).</summary>
    public const int DefaultIterations = 1000;
    /// <summary>Stop when the largest gradient entry is below this.</summary>
    public const double GradientTolerance = 1e-6;
    /// <summary>Stop when an iteration lowers J by less than this fraction of |J| (SciPy's factr 1e7 × float64 ε).</summary>
    public const double RelativeTolerance = 2.2e-9;
    /// <summary>
    /// Successive small decreases (measured by the slopes: <see cref="Iterate"/>) before the relative rule stops. They count
    /// only once m steps were taken (a full history): from a warm start near a flat optimum the first steps, taken with little
    /// or no curvature, are short, and stopping on them left a path's fits at C ≥ 1292 on satimage up to 1.2e-5
    /// above the optimum (9 more iterations a fit brought them within 8e-7). One short step proves nothing even measured
    /// exactly: with 1 (SciPy's rule) MNIST's default fit stopped after 739 iterations 2.0e-6 above scikit-learn's J, with
    /// 3 after 829, 4.4e-7 above.
    /// </summary>
    public const int StalledIterations = 3;
    /// <summary>Armijo constant c₁: accept t when J(θ + t·d) ≤ J(θ) + c₁·t·∇Jᵀd.</summary>
    public const double SufficientDecrease = 1e-4;
    /// <summary>
    /// δ of the approximate Armijo condition (Hager and Zhang's approximate Wolfe conditions, CG_DESCENT): where J's
    /// rounding hides the decrease, accept t when the slopes show it, φ'(t) ≤ (2δ − 1)·φ'(0) (on a quadratic, exactly
    /// J(θ + t·d) − J(θ) = t·(φ'(0) + φ'(t))/2 ≤ δ·t·φ'(0)), and J rose by no more than <see cref="NoiseTolerance"/>·|J|.
    /// </summary>
    public const double ApproximateDecrease = 0.1;
    /// <summary>
    /// How far above J(θ) a trial may measure and still be accepted on its slopes (Hager and Zhang's ε, their default):
    /// J is summed from float32 logits, and near MNIST's optimum trials along a descent direction measured up to 1.4e-7·|J|
    /// above J(θ). Accepting only on J there left the line search to shrink the step to nothing; its pair (a step the
    /// float32 θ hardly saw, a gradient change of rounding) then sent the next direction far uphill, and the fold fits of
    /// a path stopped 1.3e-5 above their optimum.
    /// </summary>
    public const double NoiseTolerance = 1e-6;
    /// <summary>Backtracking steps before the line search gives up (float32 cannot resolve a smaller decrease).</summary>
    public const int MaxBacktracks = 30;

    /// <summary>Parameters from which the curvature pairs are kept in bfloat16 with their Gram matrix (<see cref="GramCurvatureHistory"/>): beyond one <see cref="Sweeps.Chunk"/>.</summary>
    public const int History32From = Sweeps.Chunk + 1;

    private readonly IObjective objective;
    private readonly ICurvatureHistory history;
    private readonly int capacity; // m
    private double[] position; // θ at the last accepted step
    private double[] trial; // θ + t·d under the line search
    private double[] gradient; // ∇J(position)
    private double[] trialGradient; // ∇J(trial)
    private Evaluation current;
    private int evaluations;
    private int reported; // evaluations already counted in an outcome
    private int steps; // steps accepted since the start
    private int stalled; // successive iterations that lowered J by less than the relative tolerance
    private readonly System.Diagnostics.Stopwatch passClock = new(), updateClock = new();

    /// <summary>f(θ) and the mean loss and accuracy behind it (∇f is in the buffer it was evaluated into).</summary>
    private readonly record struct Evaluation(double J, double Loss, double Accuracy);

    public LbfgsOptimizer(OptimizerContext context)
        : this(context.Objective, context.Engine.Theta.GetAsArray1D().Select(v => (double)v).ToArray()) // zeros, or a warm start
    {
    }

    /// <summary>L-BFGS on any objective (dense rows on an engine, sparse rows on the host engine or a device) from θ = <paramref name="start"/>.</summary>
    public LbfgsOptimizer(IObjective objective, double[] start)
        : this(objective, start, diagonal: true)
    {
    }

    /// <summary>As the public constructor; <paramref name="diagonal"/>: false keeps the textbook H₀ = (sᵀy / yᵀy)·I below a million parameters too (<see cref="CurvatureHistory"/>).</summary>
    internal LbfgsOptimizer(IObjective objective, double[] start, bool diagonal)
    {
        this.objective = objective;
        position = start;
        int p = start.Length;
        (trial, gradient, trialGradient) = (new double[p], new double[p], new double[p]);
        capacity = p < History32From ? History : GramHistory;
        history = p < History32From ? new CurvatureHistory(p, diagonal) : new GramCurvatureHistory(p, capacity, diagonal);
        current = Evaluate(position, gradient);
    }

    /// <summary>θ at the last accepted step.</summary>
    public ReadOnlySpan<double> Position => position;

    /// <summary>Passes over the data, and the time split between them and the update (the two-loop recursion and the line search's vectors).</summary>
    public string Details => $"{evaluations} passes over the data ({passClock.Elapsed.TotalSeconds:F1} s; " +
                             $"the update {updateClock.Elapsed.TotalSeconds:F1} s)";

    public EpochOutcome Run(int iteration)
    {
        updateClock.Start();
        try
        {
            return Iterate();
        }
        finally
        {
            updateClock.Stop();
        }
    }

    private EpochOutcome Iterate()
    {
        double[] g = gradient;
        if (history.MaxAbs(g) <= GradientTolerance)
            return Outcome($"‖∇J‖∞ ≤ {GradientTolerance:G2}");
        double slope = history.Direction(g);
        if (!(slope < 0))
        {
            // Not a descent direction (only rounding can do this): forget the history, go downhill.
            history.Clear();
            slope = history.Direction(g);
        }
        // The first step has no curvature yet: scale it to a unit move in θ.
        double step = history.Count == 0 ? Math.Min(1, 1 / Math.Sqrt(Sweeps.Dot(g, g))) : 1;
        if (LineSearch(slope, step) is not (Evaluation next, double accepted))
        {
            Evaluate(position, trialGradient); // leave θ on the device where the host's position is
            return Outcome("the line search found no lower J (float32 resolution of the objective reached)");
        }
        // J's decrease as the slopes measure it (exact on a quadratic): J(θ) − J(θ + s) = −(φ'(0) + φ'(t))·t/2
        // = −t·φ'(0) − sᵀy/2. Near the optimum J's float32 rounding exceeds the decrease itself; the slopes do not.
        double curvature = history.Remember(trial, position, accepted, trialGradient, gradient, capacity);
        double decrease = -accepted * slope - curvature / 2;
        (position, trial) = (trial, position);
        (gradient, trialGradient) = (trialGradient, gradient);
        current = next;
        steps++;
        stalled = decrease <= RelativeTolerance * Math.Max(1, Math.Abs(next.J)) && steps >= capacity ? stalled + 1 : 0;
        return Outcome(stalled >= StalledIterations
            ? $"J fell by less than {RelativeTolerance:G2}·max(1, |J|) in {StalledIterations} successive iterations"
            : null);
    }

    /// <summary>
    /// Backtracking from <paramref name="step"/> along d until the Armijo condition holds; each trial is one
    /// pass on the device, which leaves θ at the accepted point. Returns J there and the accepted step; null when no step lowers J.
    /// </summary>
    private (Evaluation Next, double Step)? LineSearch(double slope, double step)
    {
        double f = current.J;
        for (int backtrack = 0; backtrack < MaxBacktracks; backtrack++)
        {
            history.Step(trial, position, step);
            Evaluation next = Evaluate(trial, trialGradient);
            if (!double.IsFinite(next.J))
            {
                step *= 0.1; // overshot into overflow: come back much closer
                continue;
            }
            if (next.J <= f + SufficientDecrease * step * slope || ShowsDecrease(next.J, f, step, slope))
                return (next, step);
            // Minimizer of the quadratic through J(0), J'(0) and J(step), kept within [0.1, 0.5]·step.
            double quadratic = -slope * step * step / (2 * (next.J - f - slope * step));
            step = Math.Clamp(quadratic, 0.1 * step, 0.5 * step);
        }
        return null;
    }

    /// <summary>
    /// The approximate Armijo condition (<see cref="ApproximateDecrease"/>) at the trial just evaluated: J within
    /// <see cref="NoiseTolerance"/> of <paramref name="f"/> and the slope there, φ'(t) = ∇J(trial)ᵀd, at most (2δ − 1)·φ'(0).
    /// </summary>
    private bool ShowsDecrease(double j, double f, double step, double slope)
    {
        if (!(j <= f + NoiseTolerance * Math.Abs(f)))
            return false;
        // φ'(t) = ∇J(trial)ᵀ(trial − position) / t, in float64.
        double moved = Sweeps.Sum(trial.Length, (first, last) =>
            HistoryKernels.DotOfDifference(trialGradient.AsSpan(first..last), trial.AsSpan(first..last), position.AsSpan(first..last)));
        return moved / step <= (2 * ApproximateDecrease - 1) * slope;
    }

    private EpochOutcome Outcome(string? converged)
    {
        int passes = evaluations - reported;
        reported = evaluations;
        return new EpochOutcome(current.Loss, current.Accuracy) { Objective = current.J, Converged = converged, Passes = passes };
    }

    /// <summary>J(θ) and ∇J(θ) into <paramref name="into"/>: one pass over X on the device.</summary>
    private Evaluation Evaluate(double[] theta, double[] into)
    {
        evaluations++;
        updateClock.Stop();
        passClock.Start();
        (double j, double loss, double accuracy) = objective.Evaluate(theta, into);
        passClock.Stop();
        updateClock.Start();
        return new Evaluation(j, loss, accuracy);
    }

    public void Dispose()
    {
    }
}
