using SoftmaxGpu.Data;

namespace SoftmaxGpu.Training;

/// <summary>
/// One block of a prediction made as it goes: rows [Start, Start + Rows) of the data, their true class indices
/// (where the data has labels), predicted class indices, and probabilities [Rows, K]. The arrays are reused for
/// the next block: read them, do not keep them.
/// </summary>
public readonly record struct PredictedBlock(long Start, int Rows, int[] Labels, int[] Predicted, float[] Probabilities)
{
    /// <summary>
    /// This block, once every row's K probabilities are finite numbers; else an error naming the first row that has a NaN
    /// or an infinity: a feature so far beyond the training data's range that, standardized, it or a logit passes float's
    /// range (a finite 3e38 among iris's centimetres). Such a row has no class to give.
    /// </summary>
    public PredictedBlock Finite(int k)
    {
        ReadOnlySpan<float> probabilities = Probabilities.AsSpan(0, Rows * k);
        for (int i = 0; i < probabilities.Length; i++)
        {
            if (!float.IsFinite(probabilities[i]))
                throw new DataFormatException(
                    $"row {Start + i / k + 1}: the model's outputs are not finite numbers: a feature there lies so far beyond the " +
                    $"range of the training data that, standardized and weighted, it passes float's range ({float.MaxValue:G3})");
        }
        return this;
    }
}
