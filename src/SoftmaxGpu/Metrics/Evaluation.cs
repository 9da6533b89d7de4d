namespace SoftmaxGpu.Metrics;

/// <summary>Classification metrics from true and predicted class indices.</summary>
public sealed record Evaluation(long Rows, double Accuracy, double LogLoss, double MacroF1, double[] Precision,
    double[] Recall, double[] F1, long[,] Confusion)
{
    /// <summary>
    /// Confusion[t, p] counts rows of true class t predicted as p. Precision and recall of a class that is
    /// never predicted (or never present) are 0, as scikit-learn reports them with zero_division=0. Macro-F1 averages the
    /// F1 of the classes that occur, in the data or in the predictions, as scikit-learn's f1_score(average='macro') does:
    /// a class the data lacks and the model never predicts is not averaged in as 0 (50 setosa rows all right: 1, not 1/3).
    /// </summary>
    public static Evaluation Compute(int[] truth, int[] predicted, int k, double logLoss)
    {
        var confusion = new long[k, k];
        Count(truth, predicted, truth.Length, confusion);
        return FromConfusion(confusion, logLoss);
    }

    /// <summary>Adds the first <paramref name="rows"/> (truth, predicted) pairs to the confusion counts.</summary>
    public static void Count(int[] truth, int[] predicted, int rows, long[,] confusion)
    {
        for (int r = 0; r < rows; r++)
            confusion[truth[r], predicted[r]]++;
    }

    /// <summary>The metrics of a confusion matrix counted as the rows went by (data read in blocks).</summary>
    public static Evaluation FromConfusion(long[,] confusion, double logLoss)
    {
        int k = confusion.GetLength(0);
        long rows = 0;
        foreach (long count in confusion)
            rows += count;
        var precision = new double[k];
        var recall = new double[k];
        var f1 = new double[k];
        long correct = 0;
        var occurs = new bool[k];
        for (int c = 0; c < k; c++)
        {
            long tp = confusion[c, c];
            long predictedC = 0, actualC = 0;
            for (int o = 0; o < k; o++)
            {
                predictedC += confusion[o, c];
                actualC += confusion[c, o];
            }
            correct += tp;
            occurs[c] = predictedC + actualC > 0;
            precision[c] = predictedC == 0 ? 0 : (double)tp / predictedC;
            recall[c] = actualC == 0 ? 0 : (double)tp / actualC;
            f1[c] = precision[c] + recall[c] == 0 ? 0 : 2 * precision[c] * recall[c] / (precision[c] + recall[c]);
        }
        double macro = occurs.Any(o => o) ? f1.Where((_, c) => occurs[c]).Average() : 0;
        return new Evaluation(rows, (double)correct / rows, logLoss, macro, precision, recall, f1, confusion);
    }
}
