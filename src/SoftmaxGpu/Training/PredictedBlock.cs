namespace SoftmaxGpu.Training;

/// <summary>
/// One block of a prediction made as it goes: rows [Start, Start + Rows) of the data, their true class indices
/// (where the data has labels), predicted class indices, and probabilities [Rows, K]. The arrays are reused for
/// the next block: read them, do not keep them.
/// </summary>
public readonly record struct PredictedBlock(long Start, int Rows, int[] Labels, int[] Predicted, float[] Probabilities);
