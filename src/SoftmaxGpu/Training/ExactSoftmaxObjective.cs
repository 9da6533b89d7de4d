using System.Numerics.Tensors;

namespace SoftmaxGpu.Training;

/// <summary>
/// The softmax cross-entropy objective J(θ) = (1/S)·Σ_i ℓ_i + (λ/2)‖W‖² over rows in host memory, in float64, with its
/// gradient and its Hessian: what Newton's method (<see cref="NewtonOptimizer"/>) needs to reach the optimum of a small
/// model to float64's resolution, where L-BFGS on the engines' float32 passes stops at float32's (weak penalties).
///
/// Row i, logits z = W·x + b [K], q = softmax(z), target row t [K] (one-hot of y without target rows; class and sample
/// weights and smoothing scale and spread it, s = Σ_c t_c):
///   ℓ = s·lse(z) − tᵀz,   ∂ℓ/∂z = s·q − t,   ∂²ℓ/∂z² = A = s·(diag q − q·qᵀ)   (lse = max + log Σ exp(z − max)).
/// With x̃ = [x, 1] (the 1 for b), ∂²J/∂θ_(c,a)∂θ_(c′,b) = (1/S)·Σ_i A_i[c, c′]·x̃_a·x̃_b, + λ where a = b &lt; D and c = c′.
/// θ = [W (K·D, row-major [K, D]) | b (K)], the engines' layout. S: the rows' count N, or the mass a fold's mean is over.
///
/// The loss does not change when one constant is added to every class's column a of [W | b] (softmax is shift-invariant):
/// along those D + 1 directions v_a the loss's Hessian is zero and only λ (on W, not b) curves J. <see cref="Hessian"/>
/// adds ε·v_a·v_aᵀ to make the matrix positive definite; where the gradient has no component along v_a (it has none
/// for b, and none for W when Σ_c W_(c,a) = 0, as from zeros), the Newton step is unchanged by it.
/// </summary>
public sealed class ExactSoftmaxObjective : IObjective
{
    /// <summary>
    /// From <see cref="ParallelRows"/> rows on, the rows are summed in this many contiguous blocks on every core, then the
    /// blocks in order: the same bits whatever the cores. Fewer rows are one block.
    /// </summary>
    public const int Blocks = 8;
    /// <summary>Rows from which the sums run in <see cref="Blocks"/> blocks on every core.</summary>
    public const int ParallelRows = 2048;

    /// <summary>ε of the shift directions' ε·v·vᵀ (the loss's curvature is at most s/4 per unit feature).</summary>
    public const double ShiftCurvature = 1;

    private readonly float[] features; // X: [rows, D]
    private readonly int[] labels; // y: [rows]
    private readonly float[]? targets; // Y: [rows, K], or null (one-hot of y)
    private readonly (int Start, int Count)[][] blocks; // the rows J is over, in contiguous blocks of ranges
    private readonly int d, k;
    private readonly double scale; // 1/S
    private readonly double lambda;

    /// <param name="set">Rows in host memory; J is over <paramref name="ranges"/> of them (null: every row).</param>
    /// <param name="mass">S: what the summed loss is divided by.</param>
    /// <param name="lambda">λ of (λ/2)‖W‖².</param>
    public ExactSoftmaxObjective(EncodedSet set, int k, double mass, double lambda, (int Start, int Count)[]? ranges = null)
    {
        if (set.Targets is not null && set.TargetWidth != k)
            throw new ArgumentException($"target rows of {set.TargetWidth} columns for {k} classes");
        (features, labels, targets, d, this.k) = (set.Features, set.Labels, set.Targets, set.Dim, k);
        ranges ??= [(0, set.Rows)];
        Rows = ranges.Sum(r => (long)r.Count);
        blocks = Split(ranges, Rows >= ParallelRows ? Blocks : 1);
        (scale, this.lambda) = (1 / mass, lambda);
    }

    /// <summary>The objective over every row of <paramref name="rows"/>, read into host memory.</summary>
    public static ExactSoftmaxObjective Of(IRowSource rows, int k, double mass, double lambda)
    {
        int n = checked((int)rows.Rows), d = rows.Dim, width = rows.TargetWidth;
        var features = new float[(long)n * d];
        var labels = new int[n];
        float[]? targets = width == 0 ? null : new float[(long)n * width];
        rows.Read(0, n, new RowBlock(features, labels, targets));
        return new ExactSoftmaxObjective(new EncodedSet(features, labels, targets, n, d), k, mass, lambda);
    }

    /// <summary>P = K·D + K.</summary>
    public int Parameters => k * d + k;

    /// <summary>Rows J is over.</summary>
    public long Rows { get; }

    /// <summary>J(θ), ∇J(θ) into <paramref name="gradient"/> [P], the mean loss and the accuracy: one pass over the rows.</summary>
    public (double J, double Loss, double Accuracy) Evaluate(double[] theta, double[] gradient)
    {
        var sums = new double[blocks.Length];
        var correct = new long[blocks.Length];
        var gradients = new double[blocks.Length][];
        ForEachBlock(block =>
        {
            var x = new double[d];
            var q = new double[k];
            var g = new double[k];
            double[] own = gradients[block] = new double[gradient.Length];
            foreach ((int start, int count) in blocks[block])
                for (int i = start; i < start + count; i++)
                {
                    Widen(i, x);
                    (double loss, bool right) = Row(theta, x, i, q, g);
                    sums[block] += loss;
                    correct[block] += right ? 1 : 0;
                    for (int c = 0; c < k; c++)
                    {
                        TensorPrimitives.MultiplyAdd(x, g[c], own.AsSpan(c * d, d), own.AsSpan(c * d, d)); // dW_c += g_c·x
                        own[k * d + c] += g[c];
                    }
                }
        });
        Array.Clear(gradient);
        foreach (double[] own in gradients)
            TensorPrimitives.Add(gradient, own, gradient);
        TensorPrimitives.Multiply(gradient, scale, gradient);
        Span<double> w = theta.AsSpan(0, k * d);
        TensorPrimitives.MultiplyAdd(w, lambda, gradient.AsSpan(0, k * d), gradient.AsSpan(0, k * d));
        double mean = scale * sums.Sum();
        return (mean + 0.5 * lambda * TensorPrimitives.Dot(w, w), mean, (double)correct.Sum() / Rows);
    }

    /// <summary>
    /// ∇²J(θ) into <paramref name="hessian"/> [P, P] row-major, with ε·v_a·v_aᵀ along the shift directions. For each class
    /// pair c ≤ c′ the weighted Gram matrix Σ_i A_i[c, c′]·x̃_i·x̃_iᵀ is summed, its upper triangle a vector per row:
    /// N·K(K+1)/2·(D+1)(D+2)/2 multiply-adds.
    /// </summary>
    public void Hessian(double[] theta, double[] hessian)
    {
        int e = d + 1, triangle = e * (e + 1) / 2, pairs = k * (k + 1) / 2;
        var partials = new double[blocks.Length][]; // per block, per pair (c ≤ c′): the upper triangle of Σ A[c, c′]·x̃x̃ᵀ, row by row
        ForEachBlock(block =>
        {
            double[] grams = partials[block] = new double[pairs * triangle];
            var outer = new double[triangle]; // x̃x̃ᵀ's upper triangle
            var xt = new double[e]; // x̃ = [x, 1]
            xt[d] = 1;
            var q = new double[k];
            var g = new double[k];
            foreach ((int start, int count) in blocks[block])
                for (int i = start; i < start + count; i++)
                {
                    Widen(i, xt);
                    Row(theta, xt.AsSpan(0, d), i, q, g);
                    double s = Mass(i);
                    for (int a = 0, at = 0; a < e; at += e - a, a++)
                        TensorPrimitives.Multiply(xt.AsSpan(a), xt[a], outer.AsSpan(at, e - a));
                    for (int c = 0, pair = 0; c < k; c++)
                        for (int c2 = c; c2 < k; c2++, pair++)
                        {
                            double coefficient = s * q[c] * ((c == c2 ? 1 : 0) - q[c2]);
                            Span<double> gram = grams.AsSpan(pair * triangle, triangle);
                            if (coefficient != 0)
                                TensorPrimitives.MultiplyAdd(outer, coefficient, gram, gram);
                        }
                }
        });
        double[] sum = partials[0];
        foreach (double[] partial in partials.Skip(1))
            TensorPrimitives.Add(sum, partial, sum);
        Assemble(sum, hessian);
    }

    /// <summary>H from the pairs' Gram triangles, scaled by 1/S, with λ on W's diagonal and ε·v_a·v_aᵀ.</summary>
    private void Assemble(double[] grams, double[] hessian)
    {
        int e = d + 1, triangle = e * (e + 1) / 2;
        Array.Clear(hessian);
        int p = Parameters;
        for (int c = 0, pair = 0; c < k; c++)
            for (int c2 = c; c2 < k; c2++, pair++)
                for (int a = 0, at = pair * triangle; a < e; a++)
                    for (int b = a; b < e; b++, at++)
                    {
                        double h = scale * grams[at];
                        Set(hessian, p, Index(c, a), Index(c2, b), h);
                        Set(hessian, p, Index(c, b), Index(c2, a), h);
                    }
        for (int a = 0; a < e; a++)
        {
            for (int c = 0; c < k; c++)
            {
                for (int c2 = 0; c2 < k; c2++)
                    hessian[(long)Index(c, a) * p + Index(c2, a)] += ShiftCurvature;
                if (a < d)
                    hessian[(long)Index(c, a) * p + Index(c, a)] += lambda;
            }
        }
    }

    /// <summary><paramref name="body"/>(block) for each block, on every core.</summary>
    private void ForEachBlock(Action<int> body)
    {
        if (blocks.Length > 1)
            Parallel.For(0, blocks.Length, body);
        else
            body(0);
    }

    /// <summary>The rows of <paramref name="ranges"/> cut into <paramref name="count"/> contiguous blocks of ranges, as even as rows allow.</summary>
    private static (int Start, int Count)[][] Split((int Start, int Count)[] ranges, int count)
    {
        long total = ranges.Sum(r => (long)r.Count);
        var blocks = new List<(int, int)>[count];
        int range = 0, used = 0; // the range being cut, and its rows already given to a block
        for (int block = 0; block < count; block++)
        {
            blocks[block] = [];
            long need = total * (block + 1) / count - total * block / count;
            while (need > 0)
            {
                int take = (int)Math.Min(need, ranges[range].Count - used);
                if (take > 0)
                    blocks[block].Add((ranges[range].Start + used, take));
                (need, used) = (need - take, used + take);
                if (used == ranges[range].Count)
                    (range, used) = (range + 1, 0);
            }
        }
        return [.. blocks.Select(b => b.ToArray())];
    }

    /// <summary>Row i's features into the first D of <paramref name="x"/>, in float64.</summary>
    private void Widen(int i, double[] x)
    {
        ReadOnlySpan<float> row = features.AsSpan(i * d, d);
        for (int a = 0; a < d; a++)
            x[a] = row[a];
    }

    /// <summary>The position in θ of class c's weight on x̃_a (a = D: its bias).</summary>
    private int Index(int c, int a) => a < d ? c * d + a : k * d + c;

    /// <summary>H[i, j] = H[j, i] = h.</summary>
    private static void Set(double[] hessian, int p, int i, int j, double h)
    {
        hessian[(long)i * p + j] = h;
        hessian[(long)j * p + i] = h;
    }

    /// <summary>s = Σ_c t_c of row i (1 without target rows).</summary>
    private double Mass(int i)
    {
        if (targets is null)
            return 1;
        double s = 0;
        for (int c = 0; c < k; c++)
            s += targets[i * k + c];
        return s;
    }

    /// <summary>t_c of row i: its target row's, or one-hot of its label.</summary>
    private double Target(int i, int c) => targets is null ? (c == labels[i] ? 1 : 0) : targets[i * k + c];

    /// <summary>
    /// Row i's loss ℓ and whether its largest logit is its label's; q = softmax(z) into <paramref name="q"/> and
    /// ∂ℓ/∂z = s·q − t into <paramref name="g"/>.
    /// </summary>
    private (double Loss, bool Right) Row(double[] theta, ReadOnlySpan<double> x, int i, double[] q, double[] g)
    {
        int best = 0;
        for (int c = 0; c < k; c++)
        {
            q[c] = theta[k * d + c] + TensorPrimitives.Dot(theta.AsSpan(c * d, d), x);
            if (q[c] > q[best])
                best = c;
        }
        double max = q[best], sum = 0;
        for (int c = 0; c < k; c++)
            sum += g[c] = Math.Exp(q[c] - max);
        double lse = max + Math.Log(sum), loss = 0, s = 0;
        for (int c = 0; c < k; c++)
        {
            double t = Target(i, c);
            loss += t * (lse - q[c]);
            s += t;
        }
        for (int c = 0; c < k; c++)
        {
            q[c] = g[c] / sum;
            g[c] = s * q[c] - Target(i, c);
        }
        return (loss, best == labels[i]);
    }
}
