namespace SoftmaxGpu.Training;

/// <summary>
/// L-BFGS's memory for a large θ: the m newest curvature pairs in bfloat16 and the Gram matrix of the vectors every
/// direction is a combination of — the pairs s_i, y_i and the gradient g — so that the two-loop recursion runs on
/// coefficient vectors of length 2m + 1 instead of P-long vectors (the vector-free L-BFGS of Chen, Wang and Zhou,
/// "Large-scale L-BFGS using MapReduce", NIPS 2014).
///
/// Why: with P in the tens of millions the update, not the data, sets the pace. The two-loop recursion over vectors
/// (<see cref="CurvatureHistory"/>) reads each pair twice and reads and writes q 2m + 2 times — some 7 GB an
/// iteration at P = 17 M, m = 10. Here an iteration touches the P-long vectors in two passes:
/// <list type="number">
/// <item><see cref="Remember"/>: s = θ_{k+1} − θ_k and y = g_{k+1} − g_k are written in float32, and in the same
///   pass the dots of s, y and g_{k+1} with every kept vector (the new rows of the Gram matrix);</item>
/// <item><see cref="Direction"/>: the recursion on the Gram matrix gives d = −Σ_j δ_j·b_j, written in one pass over
///   the basis b = (s_1 … s_m, y_1 … y_m, g).</item>
/// </list>
/// The arithmetic is that of the two-loop recursion with H₀ = (sᵀy / yᵀy)·I: α_i = ρ_i·s_iᵀq and β = ρ_i·y_iᵀr are
/// dots of q = Σ δ_j b_j, which are δ-weighted sums of the Gram matrix's entries. The vectors' dots are summed in
/// float over <see cref="Block"/> entries and then in float64, chunk by chunk in a fixed order (<see cref="Sweeps"/>):
/// the same bits on any core count. g enters the dots and d rounded to float.
///
/// The pairs are stored as bfloat16 (float32's exponent, 8 significant bits; rounded to nearest even), which halves
/// the bytes both passes read. Every dot is taken of the stored, rounded vectors, so the Gram matrix is exact for
/// the pairs the recursion uses: H stays a positive definite BFGS matrix built from pairs within 0.2% of the true
/// ones, and the line search and θ stay float64. Measured on a 298k-feature text set (17 M parameters, bench/RESULTS.md):
/// 231 iterations with the pairs rounded to bfloat16 against 232 in float32, J equal within 1e-8.
/// </summary>
internal sealed class GramCurvatureHistory : ICurvatureHistory
{
    /// <summary>Entries summed in float before they are added into a float64 sum: each pair is read in runs of 8 KB (1,024 entries was 1.3× slower an iteration at 17 M parameters; 4,096 to 65,536 the same).</summary>
    public const int Block = 4096;

    /// <summary>Entries per piece of work over the cores: small enough that two cores finish together.</summary>
    private const int Chunk = 1 << 18;

    private readonly int length;
    private readonly ushort[]?[] s, y; // slot vectors in bfloat16 [capacity + 1][P], allocated when first used
    private readonly List<int> kept = []; // slots of the kept pairs, newest first
    private readonly double[,] gram; // [2c, 2c] over slot vectors: index 2·slot is s, 2·slot + 1 is y
    private readonly double[] gradientDots; // [2c] gᵀb for the gradient `dotted`
    private double gradientSquare; // float(g)ᵀfloat(g)
    private double[]? dotted; // the gradient array whose dots gradientDots holds
    private readonly float[] direction; // d: [P]

    public GramCurvatureHistory(int length, int capacity)
    {
        this.length = length;
        int slots = capacity + 1; // the kept pairs and the one being measured
        (s, y) = (new ushort[slots][], new ushort[slots][]);
        gram = new double[2 * slots, 2 * slots];
        gradientDots = new double[2 * slots];
        direction = new float[length];
    }

    public int Count => kept.Count;

    public void Clear()
    {
        kept.Clear();
        dotted = null;
    }

    /// <summary>d = −H·g by the two-loop recursion on the Gram matrix (pairs newest first); returns gᵀd.</summary>
    public double Direction(double[] g)
    {
        if (!ReferenceEquals(dotted, g))
            DotGradient(g);
        int m = kept.Count;
        var delta = new double[2 * s.Length + 1]; // q = Σ δ_j b_j; the last entry is g's
        delta[^1] = 1;
        var alpha = new double[m];
        for (int i = 0; i < m; i++)
        {
            int slot = kept[i];
            alpha[i] = Dot(2 * slot, delta) / Curvature(slot);
            delta[2 * slot + 1] -= alpha[i];
        }
        if (m > 0)
        {
            int newest = kept[0];
            double gamma = Curvature(newest) / gram[2 * newest + 1, 2 * newest + 1];
            foreach (ref double coefficient in delta.AsSpan())
                coefficient *= gamma;
        }
        for (int i = m - 1; i >= 0; i--)
        {
            int slot = kept[i];
            double beta = Dot(2 * slot + 1, delta) / Curvature(slot);
            delta[2 * slot] += alpha[i] - beta;
        }
        WriteDirection(g, delta);
        return -Dot(-1, delta);
    }

    /// <summary>trial = position + t·d.</summary>
    public void Step(double[] trial, double[] position, double t) => Sweeps.Sum(length, (first, last) =>
    {
        GramKernels.Step(trial.AsSpan(first..last), position.AsSpan(first..last), t, direction.AsSpan(first..last));
        return 0;
    }, Chunk);

    /// <summary>
    /// Keeps (s, y) = (step·d, gNext − gNow) where its curvature sᵀy is positive, the oldest beyond
    /// <paramref name="capacity"/> evicted; in the same pass, gNext's dots with the vectors kept after it. s is read
    /// from the float direction (next − now = step·d up to float64 rounding), not from the two float64 θ.
    /// </summary>
    public void Remember(double[] next, double[] now, double step, double[] gNext, double[] gNow, int capacity)
    {
        int slot = Enumerable.Range(0, s.Length).First(free => !kept.Contains(free));
        ushort[] sNew = s[slot] ??= new ushort[length], yNew = y[slot] ??= new ushort[length];
        // The oldest pair leaves if the new one stays: its dots are not needed unless the new one is refused.
        List<int> others = kept.Count >= capacity ? kept.GetRange(0, capacity - 1) : [.. kept];
        ushort[][] basis = [.. others.SelectMany(other => new[] { s[other]!, y[other]! }), sNew, yNew];
        double[] dots = Sweeps.Sums(length, 3 * basis.Length + 1, (first, last, sums) =>
            PairBlock(first, last, (float)step, direction, gNext, gNow, sNew, yNew, basis, sums), Chunk);
        // dots[3·b + p]: probe p (s, y, g) against basis vector b; the last two basis vectors are s and y themselves;
        // dots[^1] = gᵀg.
        double curvature = dots[3 * (basis.Length - 2) + 1], yy = dots[3 * (basis.Length - 1) + 1];
        gradientSquare = dots[^1];
        if (curvature > 1e-12 * yy) // J is convex; skip pairs that rounding made flat
        {
            for (int b = 0; b < basis.Length; b++)
            {
                int index = b < basis.Length - 2 ? 2 * others[b / 2] + b % 2 : 2 * slot + b - (basis.Length - 2);
                for (int probe = 0; probe < 2; probe++)
                    gram[2 * slot + probe, index] = gram[index, 2 * slot + probe] = dots[3 * b + probe];
                gradientDots[index] = dots[3 * b + 2];
            }
            kept.Insert(0, slot);
            if (kept.Count > capacity)
                kept.RemoveAt(kept.Count - 1);
        }
        else
        {
            for (int b = 0; b < basis.Length - 2; b++)
                gradientDots[2 * others[b / 2] + b % 2] = dots[3 * b + 2];
            if (others.Count < kept.Count)
                DotGradient(gNext, kept[^1]);
        }
        dotted = gNext;
    }

    /// <summary>s_slotᵀy_slot.</summary>
    private double Curvature(int slot) => gram[2 * slot, 2 * slot + 1];

    /// <summary>b_vᵀq for q = Σ δ_j b_j (<paramref name="vector"/> = −1: gᵀq).</summary>
    private double Dot(int vector, double[] delta)
    {
        double sum = 0;
        foreach (int slot in kept)
            for (int half = 0; half < 2; half++)
            {
                int j = 2 * slot + half;
                sum += delta[j] * (vector < 0 ? gradientDots[j] : gram[vector, j]);
            }
        return sum + delta[^1] * (vector < 0 ? gradientSquare : gradientDots[vector]);
    }

    /// <summary>gᵀb for the kept vectors (or only <paramref name="onlySlot"/>'s), and gᵀg: where g is not the gradient the last pair was measured against.</summary>
    private void DotGradient(double[] g, int onlySlot = -1)
    {
        int[] slots = onlySlot < 0 ? [.. kept] : [onlySlot];
        ushort[][] basis = [.. slots.SelectMany(slot => new[] { s[slot]!, y[slot]! })];
        double[] dots = Sweeps.Sums(length, basis.Length + 1, (first, last, sums) => GradientBlock(first, last, g, basis, sums), Chunk);
        for (int b = 0; b < basis.Length; b++)
            gradientDots[2 * slots[b / 2] + b % 2] = dots[b];
        if (onlySlot < 0)
            gradientSquare = dots[^1];
        dotted = g;
    }

    /// <summary>d = −Σ δ_j b_j over the kept vectors and g, in float.</summary>
    private void WriteDirection(double[] g, double[] delta)
    {
        var terms = new List<(ushort[] Vector, float Scale)>();
        foreach (int slot in kept)
        {
            terms.Add((s[slot]!, (float)-delta[2 * slot]));
            terms.Add((y[slot]!, (float)-delta[2 * slot + 1]));
        }
        float gScale = (float)-delta[^1];
        Sweeps.Sum(length, (first, last) =>
        {
            for (int from = first; from < last; from += Block)
            {
                Span<float> d = direction.AsSpan(from, Math.Min(Block, last - from));
                GramKernels.Narrow(g.AsSpan(from, d.Length), d);
                GramKernels.Scale(d, gScale, d);
                foreach ((ushort[] vector, float scale) in terms)
                    GramKernels.Axpy(d, scale, vector.AsSpan(from, d.Length));
            }
            return 0;
        }, Chunk);
    }

    /// <summary>
    /// One chunk of <see cref="Remember"/>'s pass: s, y written in bfloat16, sums[3·b + p] += probe p · basis b for
    /// the probes (s and y as stored, float(gNext)) and sums[^1] += gᵀg — block by block, in float within a block.
    /// </summary>
    private static void PairBlock(int first, int last, float step, float[] d, double[] gNext, double[] gNow,
        ushort[] sNew, ushort[] yNew, ushort[][] basis, Span<double> sums)
    {
        Span<float> sBlock = stackalloc float[Block], yBlock = stackalloc float[Block], gBlock = stackalloc float[Block];
        for (int from = first; from < last; from += Block)
        {
            int count = Math.Min(Block, last - from);
            Span<float> sf = sBlock[..count], yf = yBlock[..count], gf = gBlock[..count];
            GramKernels.Scale(d.AsSpan(from, count), step, sf);
            GramKernels.Difference(gNext.AsSpan(from, count), gNow.AsSpan(from, count), yf);
            GramKernels.Narrow(gNext.AsSpan(from, count), gf);
            GramKernels.ToBFloat16(sf, sNew.AsSpan(from, count));
            GramKernels.ToBFloat16(yf, yNew.AsSpan(from, count));
            for (int b = 0; b < basis.Length; b++)
            {
                (float ds, float dy, float dg) = GramKernels.Dot3(sf, yf, gf, basis[b].AsSpan(from, count));
                sums[3 * b] += ds;
                sums[3 * b + 1] += dy;
                sums[3 * b + 2] += dg;
            }
            sums[^1] += GramKernels.Dot(gf, gf);
        }
    }

    /// <summary>One chunk of float(g)ᵀb for each basis vector b, and of float(g)ᵀfloat(g) into sums[^1].</summary>
    private static void GradientBlock(int first, int last, double[] g, ushort[][] basis, Span<double> sums)
    {
        Span<float> gBlock = stackalloc float[Block];
        for (int from = first; from < last; from += Block)
        {
            Span<float> gf = gBlock[..Math.Min(Block, last - from)];
            GramKernels.Narrow(g.AsSpan(from, gf.Length), gf);
            for (int b = 0; b < basis.Length; b++)
                sums[b] += GramKernels.Dot(gf, basis[b].AsSpan(from, gf.Length));
            sums[^1] += GramKernels.Dot(gf, gf);
        }
    }
}
