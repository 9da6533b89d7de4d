using System.Numerics.Tensors;

namespace SoftmaxGpu.Kernels.Host;

/// <summary>
/// The gradient step and the forward pass of softmax regression in managed code on the CPU: the <c>host</c>
/// engine, for machines without a GPU. Per row: z = W·x + b (one dot product of length D per class), the stable
/// softmax (row max subtracted), the loss log s + m − z_y and G = q − y; then dW += G·x (one multiply-add of
/// length D per class). The vector work goes through <see cref="TensorPrimitives"/>, which uses the widest SIMD
/// the machine has (AVX-512, AVX2, NEON) with a scalar tail.
///
/// Rows are split into one contiguous range per worker; each worker sums dW over tiles of <see cref="TileRows"/>
/// rows in float while the tile's rows are in cache, then adds the tile's sum into its own float64 accumulator,
/// so the rounding error does not grow with the row count. The workers' sums are added in worker order, so a
/// run is deterministic: the same inputs give the same bits on a given machine.
/// </summary>
public static class HostStep
{
    /// <summary>Rows whose dW is summed in float before it is added into the float64 accumulator.</summary>
    public const int TileRows = 64;

    /// <summary>Fewest rows worth a worker of their own (below it, starting a thread costs more than the work).</summary>
    public const int MinRowsPerWorker = 256;

    /// <summary>The rows of a batch and what to do with them.</summary>
    /// <param name="x">Base of X [*, D] in host memory.</param>
    /// <param name="order">Row indices of the batch, or null for rows 0 … rows − 1.</param>
    /// <param name="labels">Base of y [*]: class indices (ignored where targets are given).</param>
    /// <param name="targets">Base of Y [*, K] soft targets, or null.</param>
    public readonly unsafe struct Batch(float* x, int* order, int* labels, float* targets, int rows, int d, int k)
    {
        public readonly float* X = x;
        public readonly int* Order = order;
        public readonly int* Labels = labels;
        public readonly float* Targets = targets;
        public readonly int Rows = rows;
        public readonly int D = d;
        public readonly int K = k;

        public long RowAt(int i) => Order is null ? i : Order[i];
    }

    /// <summary>
    /// grad = gradScale·∇ Σ loss over the batch, for θ = [W (K·D) | b (K)]; returns the summed loss (unscaled,
    /// float64) and the number of rows whose largest logit is the true class.
    /// </summary>
    public static unsafe (double Loss, int Correct) Gradient(Batch batch, ReadOnlySpan<float> theta, float gradScale, Span<float> grad)
    {
        int d = batch.D, k = batch.K, kd = k * d;
        int workers = Workers(batch.Rows);
        var accumulators = new double[workers][];
        var losses = new double[workers];
        var correct = new int[workers];
        float[] thetaCopy = theta.ToArray(); // shared read-only by the workers (a span cannot cross into the lambdas)
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            (int first, int last) = Range(batch.Rows, workers, w);
            var sum = new double[kd + k];
            var tile = new float[kd];
            var z = new float[k];
            ReadOnlySpan<float> weights = thetaCopy.AsSpan(0, kd);
            ReadOnlySpan<float> bias = thetaCopy.AsSpan(kd, k);
            double loss = 0;
            int right = 0;
            for (int start = first; start < last; start += TileRows)
            {
                int end = Math.Min(last, start + TileRows);
                tile.AsSpan().Clear();
                for (int i = start; i < end; i++)
                {
                    long row = batch.RowAt(i);
                    var x = new ReadOnlySpan<float>(batch.X + row * d, d);
                    Logits(x, weights, bias, z);
                    (double rowLoss, bool hit) = SoftmaxGradient(z, batch, row);
                    loss += rowLoss;
                    right += hit ? 1 : 0;
                    for (int c = 0; c < k; c++)
                    {
                        Span<float> dw = tile.AsSpan(c * d, d);
                        TensorPrimitives.MultiplyAdd(x, z[c], dw, dw);
                        sum[kd + c] += z[c];
                    }
                }
                for (int i = 0; i < kd; i++)
                    sum[i] += tile[i];
            }
            (accumulators[w], losses[w], correct[w]) = (sum, loss, right);
        });

        double totalLoss = 0;
        int totalCorrect = 0;
        for (int i = 0; i < kd + k; i++)
        {
            double g = 0;
            for (int w = 0; w < workers; w++)
                g += accumulators[w][i];
            grad[i] = (float)(g * gradScale);
        }
        for (int w = 0; w < workers; w++)
        {
            totalLoss += losses[w];
            totalCorrect += correct[w];
        }
        return (totalLoss, totalCorrect);
    }

    /// <summary>
    /// Z = X·Wᵀ + b and Q = softmax(Z) of rows 0 … Rows − 1, with each row's (m, log s); where the batch has labels
    /// or targets, the summed loss and the correct count (else zero).
    /// </summary>
    public static unsafe (double Loss, int Correct) Forward(Batch batch, ReadOnlySpan<float> theta, bool withLoss,
        float* logits, float* outputs, float* rowStats)
    {
        int d = batch.D, k = batch.K, kd = k * d;
        int workers = Workers(batch.Rows);
        var losses = new double[workers];
        var correct = new int[workers];
        float[] thetaCopy = theta.ToArray();
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            (int first, int last) = Range(batch.Rows, workers, w);
            ReadOnlySpan<float> weights = thetaCopy.AsSpan(0, kd);
            ReadOnlySpan<float> bias = thetaCopy.AsSpan(kd, k);
            var q = new float[k];
            double loss = 0;
            int right = 0;
            for (int i = first; i < last; i++)
            {
                long row = batch.RowAt(i);
                var z = new Span<float>(logits + (long)i * k, k);
                Logits(new ReadOnlySpan<float>(batch.X + row * d, d), weights, bias, z);
                z.CopyTo(q);
                (float max, float logSum) = Softmax(q);
                q.CopyTo(new Span<float>(outputs + (long)i * k, k));
                rowStats[2L * i] = max;
                rowStats[2L * i + 1] = logSum;
                if (!withLoss)
                    continue;
                (double rowLoss, bool hit) = Loss(z, max, logSum, batch, row);
                loss += rowLoss;
                right += hit ? 1 : 0;
            }
            (losses[w], correct[w]) = (loss, right);
        });
        double total = 0;
        int hits = 0;
        for (int w = 0; w < workers; w++)
        {
            total += losses[w];
            hits += correct[w];
        }
        return (total, hits);
    }

    /// <summary>Workers for a batch: one per core, fewer for small batches (at least <see cref="MinRowsPerWorker"/> rows each).</summary>
    public static int Workers(int rows) => Math.Clamp(rows / MinRowsPerWorker, 1, Environment.ProcessorCount);

    /// <summary>Worker w's contiguous rows [first, last) of N split into equal parts.</summary>
    private static (int First, int Last) Range(int rows, int workers, int w) =>
        ((int)((long)rows * w / workers), (int)((long)rows * (w + 1) / workers));

    /// <summary>z[c] = b[c] + W[c, :]·x.</summary>
    private static void Logits(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> z)
    {
        int d = x.Length;
        for (int c = 0; c < z.Length; c++)
            z[c] = bias[c] + TensorPrimitives.Dot(x, weights.Slice(c * d, d));
    }

    /// <summary>z ← softmax(z) in place, with the row max subtracted; returns (m, log s).</summary>
    private static (float Max, float LogSum) Softmax(Span<float> z)
    {
        float max = TensorPrimitives.Max(z);
        TensorPrimitives.Subtract(z, max, z);
        TensorPrimitives.Exp(z, z);
        float sum = TensorPrimitives.Sum(z);
        TensorPrimitives.Divide(z, sum, z);
        return (max, MathF.Log(sum));
    }

    /// <summary>
    /// The row's loss and whether its argmax (the lowest index among equal maxima) is the true class, then
    /// z ← G = softmax(z) − y in place.
    /// </summary>
    private static unsafe (double Loss, bool Hit) SoftmaxGradient(Span<float> z, Batch batch, long row)
    {
        Span<float> logits = stackalloc float[z.Length];
        z.CopyTo(logits);
        (float max, float logSum) = Softmax(z);
        (double loss, bool hit) = Loss(logits, max, logSum, batch, row);
        if (batch.Targets is null)
        {
            z[batch.Labels[row]] -= 1f;
            return (loss, hit);
        }
        var y = new ReadOnlySpan<float>(batch.Targets + row * batch.K, batch.K);
        TensorPrimitives.Subtract(z, y, z);
        return (loss, hit);
    }

    /// <summary>
    /// −log q_y = (m − z_y) + log s for a label; −Σ_c y_c log q_c = Σ_c y_c ((m − z_c) + log s) for soft targets
    /// (zero targets skipped: 0 · ∞ would be NaN when m − z overflows); log q is never formed.
    /// </summary>
    private static unsafe (double Loss, bool Hit) Loss(ReadOnlySpan<float> z, float max, float logSum, Batch batch, long row)
    {
        int predicted = TensorPrimitives.IndexOfMax(z);
        if (batch.Targets is null)
        {
            int label = batch.Labels[row];
            return ((max - z[label]) + logSum, predicted == label);
        }
        var y = new ReadOnlySpan<float>(batch.Targets + row * batch.K, batch.K);
        double loss = 0;
        int truth = 0;
        for (int c = 0; c < z.Length; c++)
        {
            if (y[c] > 0f)
                loss += y[c] * ((max - z[c]) + logSum);
            if (y[c] > y[truth])
                truth = c;
        }
        return (loss, predicted == truth);
    }
}
