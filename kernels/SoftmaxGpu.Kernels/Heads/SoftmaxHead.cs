namespace SoftmaxGpu.Kernels;

/// <summary>
/// Softmax + cross-entropy, as PyTorch's CrossEntropyLoss: q = exp(z − m)/s with m = max z and s = Σ exp(z − m),
/// loss −log q_y = (m − z_y) + log s (−Σ_c y_c log q_c = Σ_c y_c ((m − z_c) + log s) for a target row), never a log
/// of q; G = (Σ_c y_c)·q − y, the gradient when a weighted row's targets sum to its weight (1 for a label). A row
/// is right when its largest logit (the lowest index among equals) is its label, or its target row's largest entry.
/// The separate kernels for large K (<see cref="Softmax"/>, <see cref="CrossEntropy"/>, <see cref="Gradient"/>)
/// and the host engine's vector rows are this head's arithmetic spread over a group or over SIMD lanes.
/// </summary>
public readonly struct SoftmaxHead : IHead
{
    public RowLoss Forward<TRow>(TRow z, TRow q, int k, TRow y, int label, bool soft, bool withLoss)
        where TRow : struct, IRowMemory
    {
        float max = z[0];
        int predicted = 0;
        for (int c = 1; c < k; c++)
        {
            if (z[c] > max)
            {
                max = z[c];
                predicted = c;
            }
        }
        float sum = 0f;
        for (int c = 0; c < k; c++)
            sum += MathF.Exp(z[c] - max);
        float logSum = MathF.Log(sum);
        float inverse = 1f / sum;

        int truth = soft ? 0 : label;
        float loss = 0f;
        for (int c = 0; c < k; c++)
        {
            float zc = z[c];
            if (withLoss)
            {
                float yc = soft ? y[c] : (c == truth ? 1f : 0f);
                if (soft && yc > y[truth])
                    truth = c;
                if (yc > 0f) // skip zeros: 0 · ∞ would be NaN when m − z overflows
                    loss += yc * ((max - zc) + logSum);
            }
            q[c] = MathF.Exp(zc - max) * inverse;
        }
        return new RowLoss(loss, withLoss && predicted == truth);
    }

    public void Backward<TRow>(TRow q, int k, TRow y, int label, bool soft, float scale, TRow g)
        where TRow : struct, IRowMemory
    {
        float mass = 1f;
        if (soft)
        {
            mass = 0f;
            for (int c = 0; c < k; c++)
                mass += y[c];
        }
        for (int c = 0; c < k; c++)
            g[c] = (q[c] * mass - (soft ? y[c] : (c == label ? 1f : 0f))) * scale;
    }
}
