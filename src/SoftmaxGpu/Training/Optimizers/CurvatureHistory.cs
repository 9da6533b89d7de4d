namespace SoftmaxGpu.Training;

/// <summary>
/// L-BFGS's memory for a small θ (below <see cref="LbfgsOptimizer.History32From"/> parameters): the m newest curvature
/// pairs (s = θ_{k+1} − θ_k, y = ∇J_{k+1} − ∇J_k) in float64 and the two-loop recursion d = −H·g over them, written
/// as the textbook loops (each elementwise step fused with the dot that follows it: q −= α_i·y_i together with
/// s_{i+1}ᵀq, q += (α − β)·s together with the next yᵀq). Up to one <see cref="Sweeps.Chunk"/> the sums run in index
/// order, so the arithmetic is that of the loops written apart. A large θ keeps its pairs in bfloat16 and runs the
/// recursion on their Gram matrix instead (<see cref="GramCurvatureHistory"/>, with the same diagonal H₀).
///
/// H₀, the recursion's starting inverse Hessian, is a diagonal D that every kept pair updates (Gilbert and Lemaréchal's
/// diagonal update, their M1QN3): the diagonal of the BFGS update of the Hessian model B = c·D⁻¹, c = yᵀDy / sᵀy (the
/// Oren–Spedicato scaling), B⁺_i = c/D_i + y_i²/sᵀy − c·(s_i/D_i)² / Σ_j s_j²/D_j, then D⁺ = 1/B⁺; D starts as
/// (sᵀy / yᵀy)·I, the textbook H₀. Where θ's entries are curved unlike each other (weights of rare and common features,
/// confident and unsure classes), D learns each entry's scale, which one scalar cannot: MNIST's fit at C = 21.5 reached
/// its optimum in 1791 iterations instead of stopping 1.8e-6 above it after 2435 (bench/RESULTS.md). Where it loses:
/// small standardized sets at weak penalties (satimage, C = 100, L-BFGS forced instead of its default Newton) crawl
/// near the optimum until the stall rule stops them, up to 9e-6 above it (the scalar H₀: 1.2e-7). With
/// <c>diagonal: false</c>, H₀ stays (sᵀy / yᵀy)·I of the newest pair (the reference of
/// <see cref="GramCurvatureHistory"/>'s tests).
/// </summary>
internal sealed class CurvatureHistory(int length, bool diagonal = true) : ICurvatureHistory
{
    private readonly LinkedList<Pair> pairs = new(); // newest first
    private readonly Stack<(double[] S, double[] Y)> spare = new(); // arrays of evicted or rejected pairs, reused
    private readonly double[] q = new double[length]; // the direction d after Direction
    private double[]? scales; // H₀'s diagonal D once a pair was kept (diagonal: true)

    /// <summary>A pair with ρ = 1/(sᵀy) and yᵀy (for H₀ = (sᵀy / yᵀy)·I).</summary>
    private sealed record Pair(double[] S, double[] Y, double Rho, double SY, double YY);

    public int Count => pairs.Count;

    public void Clear()
    {
        while (pairs.Count > 0)
            Evict();
        scales = null;
    }

    public double MaxAbs(double[] g) => Sweeps.MaxAbs(g);

    /// <summary>d = −H·g by the two-loop recursion over the pairs (newest first), H₀ = D (or (sᵀy / yᵀy)·I); returns gᵀd.</summary>
    public double Direction(double[] g)
    {
        Pair[] newest = [.. pairs];
        int m = newest.Length;
        if (m == 0)
        {
            CopyDot(g, q); // q = g (the dot is not used)
            return AxpyNegateDot(0, null, g);
        }
        var alpha = new double[m];
        // First loop, newest to oldest: α_i = ρ_i·s_iᵀq, then q −= α_i·y_i.
        alpha[0] = newest[0].Rho * CopyDot(g, newest[0].S);
        for (int i = 1; i < m; i++)
            alpha[i] = newest[i].Rho * AxpyDot(-alpha[i - 1], newest[i - 1].Y, newest[i].S);
        AxpyDot(-alpha[m - 1], newest[m - 1].Y, null);
        // q = H₀·q, then the second loop, oldest to newest: β = ρ_i·y_iᵀq, q += (α_i − β)·s_i; then d = −q.
        double beta = newest[m - 1].Rho * (scales is null
            ? ScaleDot(newest[0].SY / newest[0].YY, newest[m - 1].Y)
            : ScaleDot(scales, newest[m - 1].Y));
        for (int i = m - 2; i >= 0; i--)
            beta = newest[i].Rho * AxpyDot(alpha[i + 1] - beta, newest[i + 1].S, newest[i].Y);
        return AxpyNegateDot(alpha[0] - beta, newest[0].S, g);
    }

    /// <summary>trial = position + t·d.</summary>
    public void Step(double[] trial, double[] position, double t) => Sweeps.Sum(q.Length, (first, last) =>
    {
        HistoryKernels.Step(trial.AsSpan(first..last), position.AsSpan(first..last), t, q.AsSpan(first..last));
        return 0;
    });

    /// <summary>Keeps (s, y) = (next − now, gNext − gNow) where its curvature sᵀy is positive; the oldest beyond <paramref name="capacity"/> goes. Returns sᵀy.</summary>
    public double Remember(double[] next, double[] now, double step, double[] gNext, double[] gNow, int capacity)
    {
        (double[] s, double[] y) = spare.Count > 0 ? spare.Pop() : (new double[q.Length], new double[q.Length]);
        double curvature = Sweeps.Sum(s.Length, (first, last) => HistoryKernels.Differences(s.AsSpan(first..last),
            next.AsSpan(first..last), now.AsSpan(first..last), y.AsSpan(first..last), gNext.AsSpan(first..last), gNow.AsSpan(first..last)));
        double yy = Sweeps.Sum(y.Length, (first, last) => HistoryKernels.Dot(y.AsSpan(first..last), y.AsSpan(first..last)));
        if (curvature > 1e-12 * yy) // J is convex; skip pairs that rounding made flat
        {
            pairs.AddFirst(new Pair(s, y, 1 / curvature, curvature, yy));
            if (pairs.Count > capacity)
                Evict();
            if (diagonal)
                UpdateScales(s, y, curvature, yy);
        }
        else
        {
            spare.Push((s, y));
        }
        return curvature;
    }

    /// <summary>D⁺ from the pair just kept (the class summary's update); D = (sᵀy / yᵀy)·I before the first.</summary>
    private void UpdateScales(double[] s, double[] y, double sy, double yy)
    {
        if (scales is null)
        {
            scales = new double[q.Length];
            Array.Fill(scales, sy / yy);
        }
        double[] sums = Sweeps.Sums(q.Length, 2, (first, last, part) =>
            HistoryKernels.DiagonalSums(scales.AsSpan(first..last), s.AsSpan(first..last), y.AsSpan(first..last), part));
        double c = sums[0] / sy, sOverD = sums[1]; // yᵀDy / sᵀy, Σ s²/D
        Sweeps.Sum(q.Length, (first, last) =>
        {
            HistoryKernels.DiagonalUpdate(scales.AsSpan(first..last), s.AsSpan(first..last), y.AsSpan(first..last), c, sy, sOverD);
            return 0;
        });
    }

    private void Evict()
    {
        Pair oldest = pairs.Last!.Value;
        pairs.RemoveLast();
        spare.Push((oldest.S, oldest.Y));
    }

    /// <summary>q = g; returns sᵀq.</summary>
    private double CopyDot(double[] g, double[] s) => Sweeps.Sum(q.Length, (first, last) =>
        HistoryKernels.CopyDot(q.AsSpan(first..last), g.AsSpan(first..last), s.AsSpan(first..last)));

    /// <summary>q += a·x; returns dᵀq (0 without d).</summary>
    private double AxpyDot(double a, double[] x, double[]? d) => Sweeps.Sum(q.Length, (first, last) =>
        HistoryKernels.AxpyDot(q.AsSpan(first..last), a, x.AsSpan(first..last), d is null ? default : d.AsSpan(first..last)));

    /// <summary>q *= γ; returns dᵀq.</summary>
    private double ScaleDot(double gamma, double[] d) => Sweeps.Sum(q.Length, (first, last) =>
        HistoryKernels.ScaleDot(q.AsSpan(first..last), gamma, d.AsSpan(first..last)));

    /// <summary>q *= D elementwise; returns dᵀq.</summary>
    private double ScaleDot(double[] scale, double[] d) => Sweeps.Sum(q.Length, (first, last) =>
        HistoryKernels.ScaleDot(q.AsSpan(first..last), scale.AsSpan(first..last), d.AsSpan(first..last)));

    /// <summary>q = −(q + c·x) (without x: −q); returns gᵀq.</summary>
    private double AxpyNegateDot(double c, double[]? x, double[] g) => Sweeps.Sum(q.Length, (first, last) =>
        HistoryKernels.AxpyNegateDot(q.AsSpan(first..last), c, x is null ? default : x.AsSpan(first..last), g.AsSpan(first..last)));
}
/// <summary>L-BFGS's memory of curvature pairs: float64 vectors for a small θ (<see cref="CurvatureHistory"/>), float32 and a Gram matrix for a large one (<see cref="GramCurvatureHistory"/>).</summary>
internal interface ICurvatureHistory
{
    int Count { get; }
    void Clear();
    /// <summary>max |g_i| (the stopping test), from the pass that measured the last pair where it read g.</summary>
    double MaxAbs(double[] g);
    double Direction(double[] g);
    void Step(double[] trial, double[] position, double t);
    /// <summary>
    /// Keeps the pair of the step just taken, next = now + step·d along the last <see cref="Direction"/> (s = next − now,
    /// or step·d where that is cheaper to read), y = gNext − gNow, where its curvature sᵀy is positive; the oldest
    /// beyond <paramref name="capacity"/> goes. Returns sᵀy, kept or not.
    /// </summary>
    double Remember(double[] next, double[] now, double step, double[] gNext, double[] gNow, int capacity);
}
