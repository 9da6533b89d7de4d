using ILGPU.Runtime;

namespace SoftmaxGpu.Training;

/// <summary>
/// Newton's method with the exact Hessian, solved by Cholesky (scikit-learn's newton-cholesky), in float64 on the host,
/// for small models of the softmax head (<see cref="ExactSoftmaxObjective"/>): each iteration computes H = ∇²J(θ) and
/// solves H·d = −∇J, then backtracks along d from t = 1 until J falls enough (Armijo). Near the optimum it converges
/// quadratically, so it reaches the optimum to float64's resolution in a few iterations where L-BFGS, on float32
/// passes, stops at float32's: at weak penalties (large C) L-BFGS stalled up to 2.3% above J* on wine's folds.
///
/// An iteration costs N·K²·D²/4 multiply-adds for H and P³/3 for its factor, against L-BFGS's 2·N·K·D a pass, so it pays
/// only for small P (<see cref="Applies"/>); it reads the rows from host memory, so it runs with the host engine, one
/// process, and rows that are not streamed.
///
/// Stopping rule: the Newton decrement gᵀH⁻¹g/2 (J − J* of the quadratic model) ≤ <see cref="DecrementTolerance"/>·max(1, |J|);
/// or the line search finds no lower J; otherwise the iteration cap (--epochs, default <see cref="DefaultIterations"/>).
/// </summary>
public sealed class NewtonOptimizer : IFullBatchOptimizer
{
    /// <summary>Iterations when --epochs is not given (scikit-learn's newton-cholesky max_iter is 100).</summary>
    public const int DefaultIterations = 100;
    /// <summary>Stop when the quadratic model puts J within this fraction of max(1, |J|) of its optimum.</summary>
    public const double DecrementTolerance = 1e-13;
    /// <summary>Armijo constant c₁: accept t when J(θ + t·d) ≤ J(θ) + c₁·t·∇Jᵀd.</summary>
    public const double SufficientDecrease = 1e-4;
    /// <summary>Halvings of the step before the line search gives up.</summary>
    public const int MaxBacktracks = 40;
    /// <summary>The largest model (P = K·D + K) auto gives Newton: above, L-BFGS (see <see cref="Applies"/>).</summary>
    public const int MaxParameters = 256;
    /// <summary>The largest model Newton takes when named: H is P² doubles (128 MiB here) and costs P³/3 to factor.</summary>
    public const int MostParameters = 4096;

    private readonly ExactSoftmaxObjective objective;
    private readonly Action<double[]>? publish; // where θ goes after each step (the session's engine)
    private double[] position, trial, gradient, trialGradient;
    private readonly double[] hessian; // [P, P]
    private readonly double[] step; // d
    private (double J, double Loss, double Accuracy) current;
    private int passes, reported, hessians;

    /// <summary>Newton in a session: its rows read into host memory once a fit, θ left in the engine after each step.</summary>
    public NewtonOptimizer(OptimizerContext context)
        : this(ExactSoftmaxObjective.Of(context.Rows ?? throw new ArgumentException(Needs), context.Engine.K,
                context.Train.TotalRows, context.Plan.WeightDecay),
            [.. context.Engine.Theta.GetAsArray1D().Select(v => (double)v)],
            theta => context.Engine.Theta.CopyFromCPU(theta.Select(v => (float)v).ToArray()))
    {
    }

    /// <summary>Newton on <paramref name="objective"/> from θ = <paramref name="start"/>.</summary>
    public NewtonOptimizer(ExactSoftmaxObjective objective, double[] start, Action<double[]>? publish = null)
    {
        int p = objective.Parameters;
        if (start.Length != p)
            throw new ArgumentException($"a start of {start.Length} parameters for a model of {p}");
        (this.objective, this.publish, position) = (objective, publish, start);
        (trial, gradient, trialGradient, step, hessian) = (new double[p], new double[p], new double[p], new double[p], new double[(long)p * p]);
        current = Evaluate(position, gradient);
    }

    /// <summary>What the optimizer needs, in words: the error where it is named and cannot run (<see cref="Runs"/>).</summary>
    public const string Needs = "--optimizer newton runs on the host engine (--device host), in one process, with the softmax " +
                                "head, rows held in memory (not streamed), and a model of at most 4096 parameters (K·D + K); use lbfgs";

    /// <summary>
    /// Whether auto gives a fit Newton: the host engine, one process, the softmax head, resident rows and P ≤
    /// <see cref="MaxParameters"/>. Measured on this project's 2-core machine (bench/RESULTS.md), a 10-value 5-fold search in
    /// one process after a first: wine (P = 42) 0.04 s against L-BFGS's 0.16 s, vehicle (P = 76) 0.11 against 0.76–0.94 s,
    /// satimage (P = 222) 3.5–3.9 s both (a single fit there 0.64–0.73 s against 0.40–0.57 s, the whole process); and every
    /// fold at its optimum, where L-BFGS's stopped up to 1.2e-5 above it on satimage and 2.4% on wine; digits (P = 650)
    /// 15 s against 0.9 s.
    /// </summary>
    public static bool Applies(bool hostEngine, TrainOptions options, bool streamed, int dim, int k) =>
        Runs(hostEngine, options, streamed, dim, k) && (long)k * dim + k <= MaxParameters;

    /// <summary>
    /// Whether a fit of <paramref name="options"/> runs Newton: named (an error where it cannot run), or auto's choice
    /// (<see cref="Applies"/>, unless mini-batch options ask auto for Adam outside a path).
    /// </summary>
    public static bool Chosen(bool hostEngine, TrainOptions options, bool streamed, int dim, int k) =>
        options.Optimizer == Optimizers.Newton.Name
            ? Runs(hostEngine, options, streamed, dim, k) ? true : throw new ArgumentException(Needs)
            : options.Optimizer == Optimizers.Auto && (options.ToOptimum || !options.MiniBatchAsked) &&
              Applies(hostEngine, options, streamed, dim, k);

    /// <summary>Whether Newton can run at all: the host engine, one process, the softmax head, resident rows, P ≤ <see cref="MostParameters"/>.</summary>
    public static bool Runs(bool hostEngine, TrainOptions options, bool streamed, int dim, int k) =>
        hostEngine && options.Ranks.Size == 1 && options.Loss == SoftmaxCrossEntropy.Instance && !streamed &&
        (long)k * dim + k <= MostParameters;

    /// <summary>θ at the last accepted step.</summary>
    public ReadOnlySpan<double> Position => position;

    public string Details => $"{hessians} Hessians, {passes} passes over the data";

    public EpochOutcome Run(int iteration)
    {
        objective.Hessian(position, hessian);
        hessians++;
        if (!Solve(hessian, gradient, step))
            return Outcome("the Hessian could not be factored (not finite)");
        double slope = 0;
        for (int i = 0; i < step.Length; i++)
            slope += gradient[i] * step[i];
        if (!(slope < 0))
            return Outcome("the Newton direction is not a descent direction (float64 resolution of the objective reached)");
        if (-slope / 2 <= DecrementTolerance * Math.Max(1, Math.Abs(current.J)))
            return Outcome($"the Newton decrement ∇JᵀH⁻¹∇J/2 ≤ {DecrementTolerance:G2}·max(1, |J|)");
        if (LineSearch(slope) is not { } next)
            return Outcome("the line search found no lower J (float64 resolution of the objective reached)");
        (position, trial) = (trial, position);
        (gradient, trialGradient) = (trialGradient, gradient);
        current = next;
        publish?.Invoke(position);
        return Outcome(null);
    }

    /// <summary>Backtracking from t = 1 along d (halving) until the Armijo condition holds; null when no step lowers J.</summary>
    private (double J, double Loss, double Accuracy)? LineSearch(double slope)
    {
        double t = 1;
        for (int backtrack = 0; backtrack < MaxBacktracks; backtrack++, t *= 0.5)
        {
            for (int i = 0; i < trial.Length; i++)
                trial[i] = position[i] + t * step[i];
            var next = Evaluate(trial, trialGradient);
            if (double.IsFinite(next.J) && next.J <= current.J + SufficientDecrease * t * slope)
                return next;
        }
        return null;
    }

    /// <summary>
    /// d = −H⁻¹·g by Cholesky (H = L·Lᵀ, overwritten by L). A factor that fails (H not positive definite to rounding, where
    /// the rows leave b's directions flat) is retried with μ·I added, μ growing tenfold from 1e-10 of H's largest diagonal;
    /// false where none factors (H not finite).
    /// </summary>
    internal static bool Solve(double[] h, double[] g, double[] d)
    {
        int p = g.Length;
        double[] original = [.. h];
        double largest = Enumerable.Range(0, p).Max(i => h[(long)i * p + i]);
        if (!double.IsFinite(largest) || !(largest > 0))
            return false;
        for (double mu = 1e-10 * largest; !Cholesky(h, p); mu *= 10)
        {
            if (mu > 1e10 * largest)
                return false;
            original.CopyTo(h, 0);
            for (int i = 0; i < p; i++)
                h[(long)i * p + i] += mu;
        }
        // L·y = −g, then Lᵀ·d = y.
        for (int i = 0; i < p; i++)
        {
            double sum = -g[i];
            for (int j = 0; j < i; j++)
                sum -= h[(long)i * p + j] * d[j];
            d[i] = sum / h[(long)i * p + i];
        }
        for (int i = p - 1; i >= 0; i--)
        {
            double sum = d[i];
            for (int j = i + 1; j < p; j++)
                sum -= h[(long)j * p + i] * d[j];
            d[i] = sum / h[(long)i * p + i];
        }
        return true;
    }

    /// <summary>H = L·Lᵀ in place (L in the lower triangle); false where a pivot is not positive.</summary>
    private static bool Cholesky(double[] h, int p)
    {
        for (int j = 0; j < p; j++)
        {
            Span<double> rowJ = h.AsSpan(j * p, j);
            double pivot = h[(long)j * p + j];
            for (int m = 0; m < j; m++)
                pivot -= rowJ[m] * rowJ[m];
            if (!(pivot > 0))
                return false;
            double root = Math.Sqrt(pivot);
            h[(long)j * p + j] = root;
            for (int i = j + 1; i < p; i++)
            {
                Span<double> rowI = h.AsSpan(i * p, j);
                double sum = h[(long)i * p + j];
                for (int m = 0; m < j; m++)
                    sum -= rowI[m] * rowJ[m];
                h[(long)i * p + j] = sum / root;
            }
        }
        return true;
    }

    private (double J, double Loss, double Accuracy) Evaluate(double[] theta, double[] into)
    {
        passes++;
        return objective.Evaluate(theta, into);
    }

    private EpochOutcome Outcome(string? converged)
    {
        int count = passes - reported;
        reported = passes;
        return new EpochOutcome(current.Loss, current.Accuracy) { Objective = current.J, Converged = converged, Passes = count };
    }

    public void Dispose()
    {
    }
}
