namespace SoftmaxGpu.Training;

/// <summary>
/// L-BFGS's memory for a large θ: the m newest curvature pairs in bfloat16 and the Gram matrix of the vectors every
/// direction is a combination of — the pairs s_i, y_i and the gradient g — so that the two-loop recursion runs on
/// coefficient vectors of length 2m + 1 instead of P-long vectors (the vector-free L-BFGS of Chen, Wang and Zhou,
/// "Large-scale L-BFGS using MapReduce", NIPS 2014).
///
/// Why: with P in the tens of millions the update, not the data, sets the pace. The two-loop recursion over vectors
/// (<see cref="CurvatureHistory"/>) reads each pair twice and reads and writes q 2m + 2 times — some 7 GB an
/// iteration at P = 17 M, m = 10. Here an iteration touches the P-long vectors in three passes:
/// <list type="number">
/// <item>The first <see cref="Step"/> after <see cref="Direction"/>: the recursion on the Gram matrix has given
///   d = −Σ_j δ_j·b_j over the basis b = (s_1 … s_m, y_1 … y_m, g); one pass writes d, rounded to bfloat16, into the
///   slot of the next pair and the trial θ + t·d beside it. Later steps of the line search read d from there.</item>
/// <item><see cref="Remember"/>: the step taken is s = t·d exactly (d as stored, t kept as the slot's scale, so s is
///   never written); y = g_{k+1} − g_k is written in bfloat16, and in the same pass the dots of d, y and g_{k+1} with
///   every kept vector (the new rows of the Gram matrix) and ‖g_{k+1}‖∞ for the next iteration's stopping test
///   (<see cref="MaxAbs"/>), and the two sums H₀'s update takes from the pair (yᵀDy, Σ s²/D).</item>
/// <item><see cref="Weigh"/>: H₀'s diagonal D updated by the pair kept, as <see cref="CurvatureHistory"/>'s (Gilbert and
///   Lemaréchal), and in the same pass the D-weighted dots y_iᵀD·y_j, y_iᵀD·g, gᵀD·g.</item>
/// </list>
/// The arithmetic is that of the two-loop recursion with H₀ = D: α_i = ρ_i·s_iᵀq is a dot of q = g − Σ α_j y_j, a
/// δ-weighted sum of Gram entries; r = D·q + Σ (α_i − β_i)·s_i, so β_i = ρ_i·y_iᵀr takes the D-weighted entries for
/// the y and g and the plain ones for the s; d = −r is written as D·(the y and g) + (the s). D is kept in float (4 bytes a
/// parameter). The diagonal is worth its pass: on debian-text (17 M parameters) 111 iterations to the optimum against
/// 255 with H₀ = (sᵀy / yᵀy)·I (bench/RESULTS.md), which <c>diagonal: false</c> keeps (no third pass). The vectors' dots are summed in
/// float over <see cref="Block"/> entries and then in float64, chunk by chunk in a fixed order (<see cref="Sweeps"/>):
/// the same bits on any core count. g enters the dots rounded to float.
///
/// The pairs are stored as bfloat16 (float32's exponent, 8 significant bits; rounded to nearest even), which halves
/// the bytes both passes read. Every dot is taken of the stored, rounded vectors, so the Gram matrix is exact for
/// the pairs the recursion uses: H stays a positive definite BFGS matrix built from pairs within 0.2% of the true
/// ones (s exactly the step taken along the rounded d), and the line search and θ stay float64. Measured on a
/// 298k-feature text set (17 M parameters, bench/RESULTS.md): 231 iterations with the pairs rounded to bfloat16
/// against 232 in float32, J equal within 1e-8.
/// </summary>
internal sealed class GramCurvatureHistory : ICurvatureHistory
{
    /// <summary>Entries summed in float before they are added into a float64 sum: each pair is read in runs of 8 KB (1,024 entries was 1.3× slower an iteration at 17 M parameters; 4,096 to 65,536 the same).</summary>
    public const int Block = 4096;

    /// <summary>Entries per piece of work over the cores: small enough that two cores finish together.</summary>
    private const int Chunk = 1 << 18;

    private readonly int length;
    private readonly bool diagonal; // H₀ = D, updated by each pair kept (else (sᵀy / yᵀy)·I)
    private readonly ushort[]?[] d, y; // slot vectors in bfloat16 [capacity + 1][P], allocated when first used: s = scale·d
    private readonly double[] scale; // [capacity + 1] the step t of each slot's pair: s = t·d
    private readonly List<int> kept = []; // slots of the kept pairs, newest first
    private readonly double[,] gram; // [2c, 2c] over the pairs: index 2·slot is s, 2·slot + 1 is y
    private readonly double[] gradientDots; // [2c] gᵀb for the gradient `dotted`
    private double gradientSquare; // float(g)ᵀfloat(g)
    private double gradientMax; // max |float(g)|
    private double[]? dotted; // the gradient array whose dots gradientDots holds
    private double[]? delta; // the last Direction's coefficients: d = −Σ δ_j b_j
    private int pending = -1; // the slot the last Direction's d is (or will be) written into
    private bool written; // d is in its slot
    private float[]? scales; // H₀'s diagonal D once a pair was kept (diagonal: true)
    private readonly double[,] weighted; // [c + 1, c + 1] u_aᵀ·D·u_b over the kept y (index: slot) and g (index c)
    private double[]? weighed; // the gradient array `weighted` holds g's entries for

    /// <param name="diagonal">true: H₀ is a diagonal D that each pair kept updates (as <see cref="CurvatureHistory"/>'s);
    /// false: (sᵀy / yᵀy)·I, the textbook H₀.</param>
    public GramCurvatureHistory(int length, int capacity, bool diagonal = true)
    {
        this.length = length;
        this.diagonal = diagonal;
        int slots = capacity + 1; // the kept pairs and the one being measured
        (d, y, scale) = (new ushort[slots][], new ushort[slots][], new double[slots]);
        gram = new double[2 * slots, 2 * slots];
        gradientDots = new double[2 * slots];
        weighted = new double[slots + 1, slots + 1];
    }

    public int Count => kept.Count;

    public void Clear()
    {
        kept.Clear();
        (dotted, scales, weighed) = (null, null, null);
    }

    /// <summary>max |g_i| (g rounded to float), from the pass that measured the last pair where it was g_{k+1}.</summary>
    public double MaxAbs(double[] g)
    {
        if (!ReferenceEquals(dotted, g))
            DotGradient(g);
        return gradientMax;
    }

    /// <summary>
    /// d = −H·g by the two-loop recursion on the Gram matrix (pairs newest first); returns gᵀd. d is written by the
    /// next <see cref="Step"/>.
    /// </summary>
    public double Direction(double[] g)
    {
        if (!ReferenceEquals(dotted, g))
            DotGradient(g);
        if (scales is not null && !ReferenceEquals(weighed, g))
            Weigh(g, change: null);
        int m = kept.Count;
        delta = new double[2 * d.Length + 1]; // q = Σ δ_j b_j; the last entry is g's
        delta[^1] = 1;
        var alpha = new double[m];
        for (int i = 0; i < m; i++)
        {
            int slot = kept[i];
            alpha[i] = Dot(2 * slot, delta) / Curvature(slot);
            delta[2 * slot + 1] -= alpha[i];
        }
        if (m > 0 && scales is null)
        {
            int newest = kept[0];
            double gamma = Curvature(newest) / gram[2 * newest + 1, 2 * newest + 1];
            foreach (ref double coefficient in delta.AsSpan())
                coefficient *= gamma;
        }
        for (int i = m - 1; i >= 0; i--)
        {
            int slot = kept[i];
            double beta = Through(2 * slot + 1, delta) / Curvature(slot);
            delta[2 * slot] += alpha[i] - beta;
        }
        pending = Enumerable.Range(0, d.Length).First(free => !kept.Contains(free));
        written = false;
        return -Through(-1, delta);
    }

    /// <summary>trial = position + t·d: the first step after <see cref="Direction"/> writes d on the way (<see cref="WriteDirection"/>).</summary>
    public void Step(double[] trial, double[] position, double t)
    {
        if (!written)
        {
            WriteDirection(trial, position, t);
            written = true;
            return;
        }
        ushort[] direction = d[pending]!;
        Sweeps.Sum(length, (first, last) =>
        {
            GramKernels.Step(trial.AsSpan(first..last), position.AsSpan(first..last), t, direction.AsSpan(first..last));
            return 0;
        }, Chunk);
    }

    /// <summary>
    /// Keeps (s, y) = (step·d, gNext − gNow) where its curvature sᵀy is positive, the oldest beyond
    /// <paramref name="capacity"/> evicted; in the same pass, gNext's dots with the vectors kept after it and its
    /// largest entry. s is the stored d scaled (next − now = step·d up to float64 rounding), not read from the θ.
    /// Returns sᵀy (of the stored vectors), kept or not.
    /// </summary>
    public double Remember(double[] next, double[] now, double step, double[] gNext, double[] gNow, int capacity)
    {
        if (!written)
            throw new InvalidOperationException("Remember follows a Step along the last Direction");
        int slot = pending;
        ushort[] dNew = d[slot]!, yNew = y[slot] ??= new ushort[length];
        scale[slot] = step;
        // The oldest pair leaves if the new one stays: its dots are not needed unless the new one is refused.
        List<int> others = kept.Count >= capacity ? kept.GetRange(0, capacity - 1) : [.. kept];
        int[] slots = [.. others, slot];
        ushort[][] basis = [.. slots.SelectMany(pair => new[] { d[pair]!, y[pair]! })];
        var maxima = new double[(length + Chunk - 1) / Chunk];
        float[]? before = scales;
        double[] dots = Sweeps.Sums(length, 3 * basis.Length + 3, (first, last, sums) =>
            maxima[first / Chunk] = PairBlock(first, last, dNew, gNext, gNow, yNew, basis, before, sums), Chunk);
        // dots[3·b + p]: probe p (d, y, g) against basis vector b, as stored; the last two are d and y themselves;
        // then gᵀg, and with a diagonal D, yᵀDy and Σ d²/D. An s is its d scaled by its step: the Gram matrix holds the s.
        double Entry(int b, int probe) => dots[3 * b + probe] * (b % 2 == 0 ? scale[slots[b / 2]] : 1) * (probe == 0 ? step : 1);
        int own = basis.Length - 2;
        double curvature = Entry(own, 1), yy = Entry(own + 1, 1);
        (gradientSquare, gradientMax) = (dots[3 * basis.Length], maxima.Max());
        if (curvature > 1e-12 * yy) // J is convex; skip pairs that rounding made flat
        {
            for (int b = 0; b < basis.Length; b++)
            {
                int index = 2 * slots[b / 2] + b % 2;
                for (int probe = 0; probe < 2; probe++)
                    gram[2 * slot + probe, index] = gram[index, 2 * slot + probe] = Entry(b, probe);
                gradientDots[index] = Entry(b, 2);
            }
            kept.Insert(0, slot);
            if (kept.Count > capacity)
                kept.RemoveAt(kept.Count - 1);
            if (diagonal)
            {
                // D before the first pair is (sᵀy / yᵀy)·I, where yᵀDy = sᵀy and Σ s²/D = sᵀs·yᵀy / sᵀy.
                (double c, double sOverD) = before is null
                    ? (1, Entry(own, 0) * yy / curvature)
                    : (dots[^2] / curvature, dots[^1] * step * step);
                if (before is null)
                    Array.Fill(scales = new float[length], (float)(curvature / yy));
                Weigh(gNext, new Change(dNew, step, c, curvature, sOverD));
            }
        }
        else
        {
            for (int b = 0; b < own; b++)
                gradientDots[2 * slots[b / 2] + b % 2] = Entry(b, 2);
            if (others.Count < kept.Count)
                DotGradient(gNext, kept[^1]);
        }
        dotted = gNext;
        return curvature;
    }

    /// <summary>
    /// A new pair's s = step·d and the scalars of its update of D (<see cref="GramKernels.DiagonalUpdate"/>); its y is the
    /// newest kept one, the first that <see cref="Weigh"/> reads.
    /// </summary>
    private sealed record Change(ushort[] D, double Step, double C, double SY, double SOverD);

    /// <summary>
    /// One pass: D updated by <paramref name="change"/> (where a pair was just kept), then the D-weighted dots of the
    /// kept y and <paramref name="g"/> (float(g)), each with each, into <see cref="weighted"/>.
    /// </summary>
    private void Weigh(double[] g, Change? change)
    {
        int[] slots = [.. kept];
        ushort[][] ys = [.. slots.Select(slot => y[slot]!)];
        int count = ys.Length + 1; // the y, then g
        float[] diagonalD = scales!;
        double[] sums = Sweeps.Sums(length, count * (count + 1) / 2, (first, last, part) =>
            WeighBlock(first, last, ys, g, diagonalD, change, part), Chunk);
        int Index(int vector) => vector < ys.Length ? slots[vector] : d.Length;
        int k = 0;
        for (int a = 0; a < count; a++)
            for (int b = a; b < count; b++)
                weighted[Index(a), Index(b)] = weighted[Index(b), Index(a)] = sums[k++];
        weighed = g;
    }

    /// <summary>b_vᵀr for r = D·(Σ δ_j b_j over the y and g) + Σ δ_j s_j (<paramref name="vector"/> = −1: gᵀr), where H₀ = D; else <see cref="Dot"/>.</summary>
    private double Through(int vector, double[] delta)
    {
        if (scales is null)
            return Dot(vector, delta);
        int row = vector < 0 ? d.Length : vector / 2; // y_slot's index in `weighted` is its slot
        double sum = 0;
        foreach (int slot in kept)
        {
            sum += delta[2 * slot + 1] * weighted[row, slot];
            sum += delta[2 * slot] * (vector < 0 ? gradientDots[2 * slot] : gram[vector, 2 * slot]);
        }
        return sum + delta[^1] * weighted[row, d.Length];
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

    /// <summary>gᵀb for the kept vectors (or only <paramref name="onlySlot"/>'s), gᵀg and max |g|: where g is not the gradient the last pair was measured against.</summary>
    private void DotGradient(double[] g, int onlySlot = -1)
    {
        int[] slots = onlySlot < 0 ? [.. kept] : [onlySlot];
        ushort[][] basis = [.. slots.SelectMany(slot => new[] { d[slot]!, y[slot]! })];
        var maxima = new double[(length + Chunk - 1) / Chunk];
        double[] dots = Sweeps.Sums(length, basis.Length + 1, (first, last, sums) =>
            maxima[first / Chunk] = GradientBlock(first, last, g, basis, sums), Chunk);
        for (int b = 0; b < basis.Length; b++)
            gradientDots[2 * slots[b / 2] + b % 2] = dots[b] * (b % 2 == 0 ? scale[slots[b / 2]] : 1);
        if (onlySlot < 0)
            (gradientSquare, gradientMax) = (dots[^1], maxima.Max());
        dotted = g;
    }

    /// <summary>
    /// d = −Σ δ_j b_j over the kept vectors and g, in float, rounded to bfloat16 into the next pair's slot; and
    /// trial = position + t·d (d as rounded), in the same pass.
    /// </summary>
    private void WriteDirection(double[] trial, double[] position, double t)
    {
        double[] g = dotted!;
        float[]? diagonalD = scales;
        // d = −(D·(δ_g·g + Σ δ_y·y) + Σ δ_s·s): with H₀ = D the y and g go through D, the s do not (no D: D = I).
        ushort[][] throughD = [.. kept.Select(slot => y[slot]!)], after = [.. kept.Select(slot => d[slot]!)];
        float[] throughScales = [.. kept.Select(slot => (float)-delta![2 * slot + 1])];
        float[] afterScales = [.. kept.Select(slot => (float)(-delta![2 * slot] * scale[slot]))];
        float gScale = (float)-delta![^1];
        ushort[] into = d[pending] ??= new ushort[length];
        Sweeps.Sum(length, (first, last) =>
        {
            Span<float> block = stackalloc float[Block];
            for (int from = first; from < last; from += Block)
            {
                Span<float> direction = block[..Math.Min(Block, last - from)];
                GramKernels.Narrow(g.AsSpan(from, direction.Length), direction);
                GramKernels.Scale(direction, gScale, direction);
                GramKernels.Axpy(direction, throughScales, throughD, from);
                if (diagonalD is not null)
                    GramKernels.Multiply(direction, diagonalD.AsSpan(from, direction.Length), direction);
                GramKernels.Axpy(direction, afterScales, after, from);
                GramKernels.ToBFloat16(direction, into.AsSpan(from, direction.Length));
                GramKernels.Step(trial.AsSpan(from, direction.Length), position.AsSpan(from, direction.Length), t, direction);
            }
            return 0;
        }, Chunk);
    }

    /// <summary>
    /// One chunk of <see cref="Remember"/>'s pass: y written in bfloat16, sums[3·b + p] += probe p · basis b for the
    /// probes (d and y as stored, float(gNext)), sums[3·B] += gᵀg and, with a diagonal D, sums[3·B + 1] += yᵀDy and
    /// sums[3·B + 2] += Σ d²/D — block by block, in float within a block; returns the chunk's max |float(gNext)|.
    /// </summary>
    private static double PairBlock(int first, int last, ushort[] dNew, double[] gNext, double[] gNow, ushort[] yNew,
        ushort[][] basis, float[]? scales, Span<double> sums)
    {
        Span<float> dBlock = stackalloc float[Block], yBlock = stackalloc float[Block], gBlock = stackalloc float[Block];
        float max = 0;
        for (int from = first; from < last; from += Block)
        {
            int count = Math.Min(Block, last - from);
            Span<float> df = dBlock[..count], yf = yBlock[..count], gf = gBlock[..count];
            GramKernels.FromBFloat16(dNew.AsSpan(from, count), df);
            GramKernels.Difference(gNext.AsSpan(from, count), gNow.AsSpan(from, count), yf);
            GramKernels.ToBFloat16(yf, yNew.AsSpan(from, count));
            max = Math.Max(max, GramKernels.NarrowMaxAbs(gNext.AsSpan(from, count), gf));
            for (int b = 0; b < basis.Length; b++)
            {
                (float dd, float dy, float dg) = GramKernels.Dot3(df, yf, gf, basis[b].AsSpan(from, count));
                sums[3 * b] += dd;
                sums[3 * b + 1] += dy;
                sums[3 * b + 2] += dg;
            }
            sums[3 * basis.Length] += GramKernels.Dot(gf, gf);
            if (scales is not null)
            {
                (float yDy, float dOverD) = GramKernels.DiagonalSums(df, yf, scales.AsSpan(from, count));
                sums[3 * basis.Length + 1] += yDy;
                sums[3 * basis.Length + 2] += dOverD;
            }
        }
        return max;
    }

    /// <summary>
    /// One chunk of <see cref="Weigh"/>'s pass: D updated by <paramref name="change"/> (if any), then sums += u_aᵀ·D·u_b
    /// for a ≤ b over the vectors u = (the y of <paramref name="ys"/>, float(g)), in that order, block by block.
    /// </summary>
    private static void WeighBlock(int first, int last, ushort[][] ys, double[] g, float[] scales, Change? change, Span<double> sums)
    {
        int count = ys.Length + 1;
        float[] rented = System.Buffers.ArrayPool<float>.Shared.Rent((count + 1) * Block);
        try
        {
            for (int from = first; from < last; from += Block)
            {
                int n = Math.Min(Block, last - from);
                Span<float> Vector(int index) => rented.AsSpan(index * Block, n);
                Span<float> diagonalD = scales.AsSpan(from, n), through = Vector(count);
                for (int a = 0; a < ys.Length; a++)
                    GramKernels.FromBFloat16(ys[a].AsSpan(from, n), Vector(a));
                GramKernels.Narrow(g.AsSpan(from, n), Vector(ys.Length));
                if (change is not null) // the new pair's y is ys[0], the newest kept; `through` holds its s for now
                {
                    GramKernels.FromBFloat16(change.D.AsSpan(from, n), through);
                    GramKernels.Scale(through, (float)change.Step, through);
                    GramKernels.DiagonalUpdate(diagonalD, through, Vector(0), (float)change.C, (float)change.SY, (float)change.SOverD);
                }
                int k = 0;
                for (int a = 0; a < count; a++)
                {
                    GramKernels.Multiply(Vector(a), diagonalD, through);
                    for (int b = a; b < count; b++)
                        sums[k++] += GramKernels.Dot4(through, Vector(b));
                }
            }
        }
        finally
        {
            System.Buffers.ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>One chunk of float(g)ᵀb for each basis vector b, and of float(g)ᵀfloat(g) into sums[^1]; returns the chunk's max |float(g)|.</summary>
    private static double GradientBlock(int first, int last, double[] g, ushort[][] basis, Span<double> sums)
    {
        Span<float> gBlock = stackalloc float[Block];
        float max = 0;
        for (int from = first; from < last; from += Block)
        {
            Span<float> gf = gBlock[..Math.Min(Block, last - from)];
            max = Math.Max(max, GramKernels.NarrowMaxAbs(g.AsSpan(from, gf.Length), gf));
            for (int b = 0; b < basis.Length; b++)
                sums[b] += GramKernels.Dot(gf, basis[b].AsSpan(from, gf.Length));
            sums[^1] += GramKernels.Dot(gf, gf);
        }
        return max;
    }
}
