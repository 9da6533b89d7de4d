namespace SoftmaxGpu.Kernels;

/// <summary>
/// Multi-label: each class (tag) its own yes/no question, q = σ(z), and the row's loss the sum over its K tags of
/// the binary cross-entropy with logits (PyTorch's BCEWithLogitsLoss): max(z, 0) − z·y + log(1 + exp(−|z|)), exact
/// for |z| up to 1e30 (no log of σ is formed; exp(−|z|) never overflows); G = σ(z) − y. A row is right when every
/// tag's decision z ≥ 0 equals its target's (y ≥ 0.5): the subset accuracy. Targets are always a row (soft).
/// </summary>
public readonly struct SigmoidHead : IHead
{
    public RowLoss Forward<TRow>(TRow z, TRow q, int k, TRow y, int label, bool soft, bool withLoss)
        where TRow : struct, IRowMemory
    {
        float loss = 0f;
        bool allRight = true;
        for (int c = 0; c < k; c++)
        {
            float zc = z[c];
            float yc = withLoss ? y[c] : 0f;
            q[c] = Tag(zc, yc, out float tagLoss);
            loss += tagLoss;
            allRight &= (zc >= 0f) == (yc >= 0.5f);
        }
        return withLoss ? new RowLoss(loss, allRight) : default;
    }

    public void Backward<TRow>(TRow q, int k, TRow y, int label, bool soft, float scale, TRow g)
        where TRow : struct, IRowMemory
    {
        for (int c = 0; c < k; c++)
            g[c] = (q[c] - y[c]) * scale;
    }

    /// <summary>
    /// One tag: returns σ(z), and its binary cross-entropy with logits max(z, 0) − z·y + log(1 + exp(−|z|)) in
    /// <paramref name="loss"/>. exp(−|z|) is in (0, 1], so nothing overflows; σ is never taken a log of.
    /// </summary>
    public static float Tag(float z, float y, out float loss)
    {
        float e = MathF.Exp(-MathF.Abs(z));
        float sigmoidAbs = 1f / (1f + e); // σ(|z|)
        loss = (Math.Max(z, 0f) - z * y) + Log1P(e);
        return z >= 0f ? sigmoidAbs : e * sigmoidAbs;
    }

    /// <summary>
    /// log(1 + x) for x in [0, 1], accurate where x is tiny (where log of the rounded 1 + x would give 0): the
    /// rounding of u = 1 + x is undone by scaling with x / (u − 1).
    /// </summary>
    public static float Log1P(float x)
    {
        float u = 1f + x;
        return u == 1f ? x : MathF.Log(u) * (x / (u - 1f));
    }
}
