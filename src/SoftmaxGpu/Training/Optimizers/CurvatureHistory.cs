namespace SoftmaxGpu.Training;

/// <summary>
/// L-BFGS's memory for a small θ (below <see cref="LbfgsOptimizer.History32From"/> parameters): the m newest curvature
/// pairs (s = θ_{k+1} − θ_k, y = ∇J_{k+1} − ∇J_k) in float64 and the two-loop recursion d = −H·g over them, written
/// as the textbook loops (each elementwise step fused with the dot that follows it: q −= α_i·y_i together with
/// s_{i+1}ᵀq, q += (α − β)·s together with the next yᵀq). Up to one <see cref="Sweeps.Chunk"/> the sums run in index
/// order, so the arithmetic is that of the loops written apart. A large θ keeps its pairs in float32 and runs the
/// recursion on their Gram matrix instead (<see cref="GramCurvatureHistory"/>).
/// </summary>
internal sealed class CurvatureHistory(int length) : ICurvatureHistory
{
    private readonly LinkedList<Pair> pairs = new(); // newest first
    private readonly Stack<(double[] S, double[] Y)> spare = new(); // arrays of evicted or rejected pairs, reused
    private readonly double[] q = new double[length]; // the direction d after Direction

    /// <summary>A pair with ρ = 1/(sᵀy) and yᵀy (for H₀ = (sᵀy / yᵀy)·I).</summary>
    private sealed record Pair(double[] S, double[] Y, double Rho, double SY, double YY);

    public int Count => pairs.Count;

    public void Clear()
    {
        while (pairs.Count > 0)
            Evict();
    }

    public double MaxAbs(double[] g) => Sweeps.MaxAbs(g);

    /// <summary>d = −H·g by the two-loop recursion over the pairs (newest first), H₀ = (sᵀy / yᵀy)·I; returns gᵀd.</summary>
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
        double gamma = newest[0].SY / newest[0].YY;
        double beta = newest[m - 1].Rho * ScaleDot(gamma, newest[m - 1].Y);
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
        }
        else
        {
            spare.Push((s, y));
        }
        return curvature;
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
