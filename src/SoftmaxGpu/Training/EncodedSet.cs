namespace SoftmaxGpu.Training;

/// <summary>Rows ready for the device: standardized X [N, D], class indices y [N], optional soft targets [N, K].</summary>
public sealed record EncodedSet(float[] Features, int[] Labels, float[]? Targets, int Rows, int Dim);
