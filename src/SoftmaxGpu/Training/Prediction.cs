namespace SoftmaxGpu.Training;

/// <summary>Probabilities [N, K] and predicted class indices [N] of a table; the mean loss where it has labels.</summary>
public sealed record Prediction(float[] Probabilities, int[] Predicted, double? Loss);
