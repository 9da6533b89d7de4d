using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Training;

/// <summary>
/// Full-batch L-BFGS on J(θ) = mean CE + (λ/2)‖W‖² (b unpenalized), the objective scikit-learn minimizes
/// divided by C·N (so its C is λ = 1/(C·N)).
///
/// The device computes every f(θ) and ∇f(θ): one fused pass over all N rows (<see cref="BatchGradient"/>).
/// The host keeps θ, the direction and the m curvature pairs in float64 and runs the two-loop recursion: they
/// are K·D + K numbers against the N·D of X, so per evaluation it sends θ and reads ∇ back (P floats each
/// way), and float64 curvature pairs keep the quasi-Newton model accurate down to float32's resolution of f.
/// The line search backtracks from the unit step until the Armijo condition holds.
/// </summary>
public static class Lbfgs
{
    /// <summary>m: curvature pairs kept (scikit-learn's and SciPy's default is 10).</summary>
    public const int History = 10;
    /// <summary>Iterations when --epochs is not given (scikit-learn's max_iter default is 100; its examples use 1000).</summary>
    public const int DefaultIterations = 1000;
    /// <summary>Stop when the largest gradient entry is below this.</summary>
    public const double GradientTolerance = 1e-6;
    /// <summary>Stop when an iteration lowers J by less than this fraction of |J| (SciPy's factr 1e7 × float64 ε).</summary>
    public const double RelativeTolerance = 2.2e-9;
    /// <summary>Armijo constant c₁: accept t when J(θ + t·d) ≤ J(θ) + c₁·t·∇Jᵀd.</summary>
    public const double SufficientDecrease = 1e-4;
    /// <summary>Backtracking steps before the line search gives up (float32 cannot resolve a smaller decrease).</summary>
    public const int MaxBacktracks = 30;

    public static TrainResult Train(Gpu gpu, EncodedSet train, EncodedSet? validation, int k, TrainOptions options,
        Action<EpochReport>? onEpoch = null)
    {
        options.Validate();
        Accelerator accelerator = gpu.Accelerator;
        int n = train.Rows;
        int d = train.Dim;
        int iterations = options.EpochsFor(n);
        double lambda = options.WeightDecay;
        int penalized = k * d;

        using var x = accelerator.Allocate1D(train.Features);
        using var y = accelerator.Allocate1D(train.Labels);
        using var targets = Trainer.Upload(accelerator, train.Targets);
        using var valX = Trainer.Upload(accelerator, validation?.Features);
        using var valY = Trainer.Upload(accelerator, validation?.Labels);
        using var valTargets = Trainer.Upload(accelerator, validation?.Targets);
        bool fused = options.Fused ?? gpu.Kernels.FusedStep.Preferred(n, d, k);
        using var model = new DeviceModel(accelerator, gpu.Kernels, d, k, Trainer.ForwardRows(fused, n));
        using var gradient = new BatchGradient(accelerator, gpu.Kernels, model, n, fused, train.Targets is not null);
        using var grad = accelerator.Allocate1D<float>(model.Theta.Length);
        int evaluations = 0;

        // J(θ), ∇J(θ), and the mean CE and accuracy behind them: one pass over X on the device.
        (double J, double[] G, double Loss, double Accuracy) Evaluate(double[] theta)
        {
            evaluations++;
            model.Theta.CopyFromCPU(theta.Select(v => (float)v).ToArray());
            model.Totals.MemSetToZero();
            gradient.Compute(x.View, default, y.View, Trainer.View(targets), n, 1f / n, grad.View);
            float[] totals = model.Totals.GetAsArray1D();
            float[] g = grad.GetAsArray1D();
            double objective = totals[0];
            var full = new double[g.Length];
            for (int i = 0; i < g.Length; i++)
            {
                full[i] = g[i];
                if (i < penalized)
                {
                    objective += 0.5 * lambda * theta[i] * theta[i];
                    full[i] += lambda * theta[i];
                }
            }
            return (objective, full, totals[0], totals[1] / n);
        }

        var history = new List<EpochReport>();
        var pairs = new LinkedList<(double[] S, double[] Y, double Rho)>();
        var clock = Stopwatch.StartNew();
        double[] position = new double[model.Theta.Length];
        var (f, g, loss, accuracy) = Evaluate(position);
        string stop = $"reached the iteration limit ({iterations})";

        for (int iteration = 1; iteration <= iterations; iteration++)
        {
            if (MaxAbs(g) <= GradientTolerance)
            {
                stop = $"‖∇J‖∞ ≤ {GradientTolerance:G2}";
                break;
            }
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
            double[] trial = new double[position.Length];
            (double J, double[] G, double Loss, double Accuracy) next = default;
            bool accepted = false;
            for (int backtrack = 0; backtrack < MaxBacktracks; backtrack++)
            {
                for (int i = 0; i < trial.Length; i++)
                    trial[i] = position[i] + step * direction[i];
                next = Evaluate(trial);
                if (!double.IsFinite(next.J))
                {
                    step *= 0.1; // overshot into overflow: come back much closer
                    continue;
                }
                if (next.J <= f + SufficientDecrease * step * slope)
                {
                    accepted = true;
                    break;
                }
                // Minimizer of the quadratic through J(0), J'(0) and J(step), kept within [0.1, 0.5]·step.
                double quadratic = -slope * step * step / (2 * (next.J - f - slope * step));
                step = Math.Clamp(quadratic, 0.1 * step, 0.5 * step);
            }
            if (!accepted)
            {
                stop = "the line search found no lower J (float32 resolution of the objective reached)";
                break;
            }

            var s = new double[trial.Length];
            var yDiff = new double[trial.Length];
            for (int i = 0; i < s.Length; i++)
            {
                s[i] = trial[i] - position[i];
                yDiff[i] = next.G![i] - g[i];
            }
            double curvature = Dot(s, yDiff);
            if (curvature > 1e-12 * Dot(yDiff, yDiff)) // J is convex; skip pairs that rounding made flat
            {
                pairs.AddFirst((s, yDiff, 1 / curvature));
                if (pairs.Count > History)
                    pairs.RemoveLast();
            }

            double decrease = f - next.J;
            (position, f, g, loss, accuracy) = (trial, next.J, next.G!, next.Loss, next.Accuracy);

            double? valLoss = null, valAccuracy = null;
            if (validation is not null)
                (valLoss, valAccuracy) = model.Evaluate(valX!.View, valY!.View, Trainer.View(valTargets), validation.Rows);
            var report = new EpochReport(iteration, iterations, loss, accuracy, valLoss, valAccuracy, clock.Elapsed)
            {
                Objective = f,
            };
            history.Add(report);
            onEpoch?.Invoke(report);

            if (decrease <= RelativeTolerance * Math.Max(1, Math.Abs(f)))
            {
                stop = $"J fell by less than {RelativeTolerance:G2}·max(1, |J|) in an iteration";
                break;
            }
        }

        if (history.Count == 0) // stopped before the first step: report the starting point
            history.Add(new EpochReport(0, iterations, loss, accuracy, null, null, clock.Elapsed) { Objective = f });
        return new TrainResult(position.Select(v => (float)v).ToArray(), history, history.Count, false)
        {
            Objective = f,
            Summary = $"L-BFGS: {history[^1].Epoch} iterations, {evaluations} passes over the data; stopped: {stop}",
        };
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
