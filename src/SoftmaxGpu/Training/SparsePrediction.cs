using SoftmaxGpu.Data;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Kernels.Host;
using SoftmaxGpu.Model;

namespace SoftmaxGpu.Training;

/// <summary>
/// A saved model over sparse rows on the host engine (<see cref="SparseHostStep.Forward{THead}"/>): the model's
/// scaling folded into its weights once (W·((x − μ)/σ) + b = (W/σ)·x + (b − W·μ/σ)), then the rows a block at a time,
/// never dense. What <see cref="Pipeline.Predict(Devices.Gpu, SoftmaxModel, IRowSource, bool, Action{PredictedBlock})"/>
/// does for sparse rows.
/// </summary>
public static class SparsePrediction
{
    /// <summary>Rows per block handed on.</summary>
    public const int BlockRows = 4096;

    /// <summary>
    /// Runs the model over every row; returns the mean loss against <paramref name="labels"/> (a multi-label model: against
    /// <paramref name="targets"/>, the rows' tags) where <paramref name="withLabels"/>, else null.
    /// </summary>
    /// <param name="targets">Y: [N, K] the rows' 0/1 tags, for a multi-label model's loss; else null.</param>
    public static unsafe double? Predict(SoftmaxModel model, SparseRows x, int[] labels, bool withLabels, Action<PredictedBlock> onBlock,
        float[]? targets = null)
    {
        int k = model.K, d = model.D;
        if (x.Dim != d)
            throw new ArgumentException($"the rows have {x.Dim} features; the model {d}");
        bool multiLabel = model.Kind.IsMultiLabel();
        if (multiLabel && withLabels && targets?.Length != (long)x.Rows * k)
            throw new ArgumentException($"a multi-label model's loss needs the rows' tags: [{x.Rows}, {k}] targets", nameof(targets));
        (float[] wt, float[] bias) = Folded(model);
        int capacity = Math.Clamp(x.Rows, 1, BlockRows);
        var block = new PredictedBlock(0, 0, new int[capacity], new int[capacity], new float[(long)capacity * k]);
        var logits = new float[(long)capacity * k];
        double loss = 0;
        fixed (int* rowStart = x.RowStart, columns = x.Columns, all = labels)
        fixed (float* values = x.Values, w = wt, b = bias, q = block.Probabilities, z = logits, y = targets)
        {
            for (int start = 0; start < x.Rows; start += capacity)
            {
                int rows = Math.Min(capacity, x.Rows - start);
                var csr = new SparseHostStep.Csr(rowStart + start, columns, values, rows, d);
                var batch = new HostStep.Batch(null, null, all + start, y is null ? null : y + (long)start * k, rows, d, k);
                loss += multiLabel
                    ? SparseHostStep.Forward<SigmoidHead>(csr, batch, w, b, withLabels, q, z).Loss
                    : SparseHostStep.Forward<SoftmaxHead>(csr, batch, w, b, withLabels, q, z).Loss;
                for (int r = 0; r < rows; r++)
                {
                    block.Predicted[r] = RowTargets.ArgMax(new ReadOnlySpan<float>(z + (long)r * k, k));
                    block.Labels[r] = labels[start + r];
                }
                onBlock((block with { Start = start, Rows = rows }).Finite(k));
            }
        }
        return withLabels ? loss / x.Rows : null;
    }

    /// <summary>Wᵀ [D, K] = (W/σ)ᵀ and b′ = b − W·(μ/σ): the model on raw rows.</summary>
    private static (float[] Wt, float[] Bias) Folded(SoftmaxModel model)
    {
        int k = model.K, d = model.D;
        double[] mean = model.Standardizer.Mean, std = model.Standardizer.Std;
        var wt = new float[(long)d * k];
        var bias = new double[k];
        for (int c = 0; c < k; c++)
        {
            bias[c] = model.Bias[c];
            for (int j = 0; j < d; j++)
            {
                double w = model.Weights[(long)c * d + j] / std[j];
                wt[(long)j * k + c] = (float)w;
                bias[c] -= w * mean[j];
            }
        }
        return (wt, bias.Select(v => (float)v).ToArray());
    }
}
