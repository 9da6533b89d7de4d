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
    private readonly LinkedList<Pair> pairs = new(); // newest first
    private readonly Stack<(double[] S, double[] Y)> spare = new(); // arrays of evicted or rejected pairs, reused
    private double[] position; // θ at the last accepted step
    private double[] trial; // θ + t·d under the line search
    private double[] gradient; // ∇J(position)
    private double[] trialGradient; // ∇J(trial)
    private readonly double[] direction;
    private Evaluation current;
    private int evaluations;
    private int reported; // evaluations already counted in an outcome
    private int stalled; // successive iterations that lowered J by less than the relative tolerance
    private readonly System.Diagnostics.Stopwatch passClock = new(), updateClock = new();

    /// <summary>f(θ) and the mean loss and accuracy behind it (∇f is in the buffer it was evaluated into).</summary>
    private readonly record struct Evaluation(double J, double Loss, double Accuracy);

    /// <summary>A curvature pair: s = θ_{k+1} − θ_k, y = ∇J_{k+1} − ∇J_k, with ρ = 1/(sᵀy) and yᵀy (for H₀ = (sᵀy / yᵀy)·I).</summary>
    private sealed record Pair(double[] S, double[] Y, double Rho, double SY, double YY);

    public LbfgsOptimizer(OptimizerContext context)
        : this(context.Objective, context.Engine.Theta.GetAsArray1D().Select(v => (double)v).ToArray()) // zeros, or a warm start
    {
    }

    /// <summary>L-BFGS on any objective (dense rows on an engine, sparse rows on the host) from θ = <paramref name="start"/>.</summary>
    public LbfgsOptimizer(IObjective objective, double[] start)
    {
        this.objective = objective;
        position = start;
        int p = start.Length;
        (trial, gradient, trialGradient, direction) = (new double[p], new double[p], new double[p], new double[p]);
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
        if (MaxAbs(g) <= GradientTolerance)
            return Outcome($"‖∇J‖∞ ≤ {GradientTolerance:G2}");
        double slope = Direction(g, direction);
        if (!(slope < 0))
        {
            // Not a descent direction (only rounding can do this): forget the history, go downhill.
            while (pairs.Count > 0)
                Evict();
            slope = Direction(g, direction);
        }
        // The first step has no curvature yet: scale it to a unit move in θ.
        double step = pairs.Count == 0 ? Math.Min(1, 1 / Math.Sqrt(Dot(g, g))) : 1;
        if (LineSearch(slope, step) is not Evaluation next)
        {
            Evaluate(position, trialGradient); // leave θ on the device where the host's position is
            return Outcome("the line search found no lower J (float32 resolution of the objective reached)");
        }
        Remember();
        double decrease = current.J - next.J;
        (position, trial) = (trial, position);
        (gradient, trialGradient) = (trialGradient, gradient);
        current = next;
        stalled = decrease <= RelativeTolerance * Math.Max(1, Math.Abs(next.J)) ? stalled + 1 : 0;
        return Outcome(stalled >= StalledIterations
            ? $"J fell by less than {RelativeTolerance:G2}·max(1, |J|) in {StalledIterations} successive iterations"
            : null);
    }

    /// <summary>
    /// Keeps the pair (s = trial − position, y = ∇J(trial) − ∇J(position)) where its curvature is positive, dropping
    /// the oldest beyond m: one pass making s and y and their dots sᵀy and yᵀy.
    /// </summary>
    private void Remember()
    {
        (double[] s, double[] y) = spare.Count > 0 ? spare.Pop() : (new double[position.Length], new double[position.Length]);
        double curvature = Sweeps.Differences(s, trial, position, y, trialGradient, gradient);
        double yy = Sweeps.Dot(y, y);
        if (curvature > 1e-12 * yy) // J is convex; skip pairs that rounding made flat
        {
            pairs.AddFirst(new Pair(s, y, 1 / curvature, curvature, yy));
            if (pairs.Count > History)
                Evict();
        }
        else
        {
            spare.Push((s, y));
        }
    }

    private void Evict()
    {
        Pair oldest = pairs.Last!.Value;
        pairs.RemoveLast();
        spare.Push((oldest.S, oldest.Y));
    }

    /// <summary>
    /// Backtracking from <paramref name="step"/> along d until the Armijo condition holds; each trial is one
    /// pass on the device, which leaves θ at the accepted point. Null when no step lowers J.
    /// </summary>
    private Evaluation? LineSearch(double slope, double step)
    {
        double f = current.J;
        for (int backtrack = 0; backtrack < MaxBacktracks; backtrack++)
        {
            Sweeps.Step(trial, position, step, direction);
            Evaluation next = Evaluate(trial, trialGradient);
            if (!double.IsFinite(next.J))
            {
                step *= 0.1; // overshot into overflow: come back much closer
                continue;
            }
            if (next.J <= f + SufficientDecrease * step * slope)
                return next;
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

    /// <summary>
    /// d = −H·g by the two-loop recursion over the pairs (newest first), H₀ = (sᵀy / yᵀy)·I; returns gᵀd. Each pass
    /// over the vectors finishes one step and starts the next (q −= α_i·y_i together with s_{i+1}ᵀq; q += (α − β)·s
    /// together with the next y_iᵀq), so the recursion reads each pair twice and q 2m + 2 times — the arithmetic of
    /// the loops written apart, in the same order (<see cref="Sweeps"/>).
    /// </summary>
    private double Direction(double[] g, double[] q)
    {
        Pair[] newest = [.. pairs];
        int m = newest.Length;
        if (m == 0)
            return Sweeps.AxpyNegateDot(Sweeps.Copy(q, g), 0, null, g);
        var alpha = new double[m];
        // First loop, newest to oldest: α_i = ρ_i·s_iᵀq, then q −= α_i·y_i.
        alpha[0] = newest[0].Rho * Sweeps.CopyDot(q, g, newest[0].S);
        for (int i = 1; i < m; i++)
            alpha[i] = newest[i].Rho * Sweeps.AxpyDot(q, -alpha[i - 1], newest[i - 1].Y, newest[i].S);
        Sweeps.AxpyDot(q, -alpha[m - 1], newest[m - 1].Y, null);
        // q = H₀·q, then the second loop, oldest to newest: β = ρ_i·y_iᵀq, q += (α_i − β)·s_i; then d = −q.
        double gamma = newest[0].SY / newest[0].YY;
        double beta = newest[m - 1].Rho * Sweeps.ScaleDot(q, gamma, newest[m - 1].Y);
        for (int i = m - 2; i >= 0; i--)
            beta = newest[i].Rho * Sweeps.AxpyDot(q, alpha[i + 1] - beta, newest[i + 1].S, newest[i].Y);
        return Sweeps.AxpyNegateDot(q, alpha[0] - beta, newest[0].S, g);
    }

    private static double Dot(double[] a, double[] b) => Sweeps.Dot(a, b);

    private static double MaxAbs(double[] v) => Sweeps.MaxAbs(v);
}
