using System.Numerics;

namespace SoftmaxGpu.Training;

/// <summary>
/// L-BFGS's memory: the m newest curvature pairs (s = θ_{k+1} − θ_k, y = ∇J_{k+1} − ∇J_k) and the two-loop
/// recursion d = −H·g over them, with the vectors s, y and q stored as <typeparamref name="T"/>.
///
/// Cost: per iteration the recursion passes 2m + 2 times over P-vectors — as many bytes as the pass over the data
/// once P is ten million (a text set: 300k features × 57 classes). So each pass finishes one step of the loops and
/// starts the next (q −= α_i·y_i together with s_{i+1}ᵀq; q += (α − β)·s together with the next yᵀq), reading each
/// pair twice and q 2m + 2 times; the passes run in chunks over the cores (<see cref="Sweeps"/>); and a large θ keeps
/// its history in float32 (<see cref="LbfgsOptimizer.History32From"/>), which halves those bytes — the direction is
/// a search direction (the line search and θ stay float64), and every dot is summed in float64. A small θ keeps
/// float64 and one chunk: the same arithmetic, in the same order, as the loops written apart.
/// </summary>
internal sealed class CurvatureHistory<T>(int length) : ICurvatureHistory
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly LinkedList<Pair> pairs = new(); // newest first
    private readonly Stack<(T[] S, T[] Y)> spare = new(); // arrays of evicted or rejected pairs, reused
    private readonly T[] q = new T[length]; // the direction d after Direction

    /// <summary>A pair with ρ = 1/(sᵀy) and yᵀy (for H₀ = (sᵀy / yᵀy)·I).</summary>
    private sealed record Pair(T[] S, T[] Y, double Rho, double SY, double YY);

    public int Count => pairs.Count;

    public void Clear()
    {
        while (pairs.Count > 0)
            Evict();
    }

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
        HistoryKernels.Step<T>(trial.AsSpan(first..last), position.AsSpan(first..last), t, q.AsSpan(first..last));
        return 0;
    });

    /// <summary>Keeps (s, y) = (next − now, gNext − gNow) where its curvature sᵀy is positive; the oldest beyond <paramref name="capacity"/> goes.</summary>
    public void Remember(double[] next, double[] now, double[] gNext, double[] gNow, int capacity)
    {
        (T[] s, T[] y) = spare.Count > 0 ? spare.Pop() : (new T[q.Length], new T[q.Length]);
        double curvature = Sweeps.Sum(s.Length, (first, last) => HistoryKernels.Differences<T>(s.AsSpan(first..last),
            next.AsSpan(first..last), now.AsSpan(first..last), y.AsSpan(first..last), gNext.AsSpan(first..last), gNow.AsSpan(first..last)));
        double yy = Sweeps.Sum(y.Length, (first, last) => HistoryKernels.Dot<T>(y.AsSpan(first..last), y.AsSpan(first..last)));
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
    }

    private void Evict()
    {
        Pair oldest = pairs.Last!.Value;
        pairs.RemoveLast();
        spare.Push((oldest.S, oldest.Y));
    }

    /// <summary>q = g; returns sᵀq.</summary>
    private double CopyDot(double[] g, T[] s) => Sweeps.Sum(q.Length, (first, last) =>
        HistoryKernels.CopyDot<T>(q.AsSpan(first..last), g.AsSpan(first..last), s.AsSpan(first..last)));

    /// <summary>q += a·x; returns dᵀq (0 without d).</summary>
    private double AxpyDot(double a, T[] x, T[]? d) => Sweeps.Sum(q.Length, (first, last) =>
        HistoryKernels.AxpyDot<T>(q.AsSpan(first..last), a, x.AsSpan(first..last), d is null ? default : d.AsSpan(first..last)));

    /// <summary>q *= γ; returns dᵀq.</summary>
    private double ScaleDot(double gamma, T[] d) => Sweeps.Sum(q.Length, (first, last) =>
        HistoryKernels.ScaleDot<T>(q.AsSpan(first..last), gamma, d.AsSpan(first..last)));

    /// <summary>q = −(q + c·x) (without x: −q); returns gᵀq.</summary>
    private double AxpyNegateDot(double c, T[]? x, double[] g) => Sweeps.Sum(q.Length, (first, last) =>
        HistoryKernels.AxpyNegateDot<T>(q.AsSpan(first..last), c, x is null ? default : x.AsSpan(first..last), g.AsSpan(first..last)));
}
/// <summary>L-BFGS's memory of curvature pairs, whatever the precision it stores them in (<see cref="CurvatureHistory{T}"/>).</summary>
internal interface ICurvatureHistory
{
    int Count { get; }
    void Clear();
    double Direction(double[] g);
    void Step(double[] trial, double[] position, double t);
    void Remember(double[] next, double[] now, double[] gNext, double[] gNow, int capacity);
}
