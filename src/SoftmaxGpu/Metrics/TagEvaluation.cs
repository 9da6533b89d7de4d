namespace SoftmaxGpu.Metrics;

/// <summary>
/// Multi-label metrics from each row's true and predicted tag sets, as scikit-learn defines them (zero_division=0):
/// subset accuracy (rows whose predicted set is exactly the true one), Hamming loss (the share of wrong
/// row × tag decisions), micro-F1 (from the true/false positives and negatives summed over every tag), macro-F1
/// (the mean of the per-tag F1) and each tag's precision, recall and F1; the loss is the mean over rows of the
/// binary cross-entropy summed over the tags.
/// </summary>
public sealed record TagEvaluation(long Rows, double SubsetAccuracy, double HammingLoss, double Loss, double MicroPrecision,
    double MicroRecall, double MicroF1, double MacroF1, double[] Precision, double[] Recall, double[] F1, long[] Support)
{
    /// <param name="probabilities">σ(z): [N, K].</param>
    /// <param name="targets">Y: [N, K] of 0/1.</param>
    /// <param name="threshold">A tag is predicted where its probability reaches this.</param>
    public static TagEvaluation Compute(float[] probabilities, float[] targets, int rows, int k, double threshold, double loss)
    {
        long[] tp = new long[k], fp = new long[k], fn = new long[k];
        long exact = 0, wrong = 0;
        for (int r = 0; r < rows; r++)
        {
            bool all = true;
            for (int c = 0; c < k; c++)
            {
                bool predicted = probabilities[(long)r * k + c] >= threshold;
                bool actual = targets[(long)r * k + c] >= 0.5f;
                tp[c] += predicted && actual ? 1 : 0;
                fp[c] += predicted && !actual ? 1 : 0;
                fn[c] += !predicted && actual ? 1 : 0;
                if (predicted != actual)
                {
                    all = false;
                    wrong++;
                }
            }
            exact += all ? 1 : 0;
        }
        double[] precision = new double[k], recall = new double[k], f1 = new double[k];
        for (int c = 0; c < k; c++)
            (precision[c], recall[c], f1[c]) = Scores(tp[c], fp[c], fn[c]);
        (double microP, double microR, double microF1) = Scores(tp.Sum(), fp.Sum(), fn.Sum());
        return new TagEvaluation(rows, (double)exact / rows, (double)wrong / ((long)rows * k), loss, microP, microR, microF1,
            f1.Average(), precision, recall, f1, tp.Zip(fn, (a, b) => a + b).ToArray());
    }

    /// <summary>Precision, recall and F1 of counts, 0 where a denominator is 0.</summary>
    private static (double Precision, double Recall, double F1) Scores(long tp, long fp, long fn)
    {
        double precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp);
        double recall = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
        double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return (precision, recall, f1);
    }
}
