using SoftmaxGpu.Data;

namespace SoftmaxGpu.Training;

/// <summary>
/// A .sgd dataset file as rows for training, read block by block and standardized on the way with the file's
/// own statistics: host memory holds the staged block, never the set. Where the file keeps target rows or weights and
/// <paramref name="targets"/> says how they become the device's targets (<see cref="FileTargets"/>), each block
/// carries target rows too; without, labels alone (a file's target rows and weights are then not read).
/// </summary>
/// <param name="labelsNeeded">False for prediction: a class the model does not know reads as −1 instead of an error.</param>
public sealed class SgdRowSource(SgdReader reader, Standardizer standardizer, IReadOnlyList<string> classes,
    bool labelsNeeded = true, FileTargets? targets = null) : IRowSource
{
    public bool HasLabels => labelsNeeded;

    // The model's class index of each of the file's classes (the same list, unless read against a model).
    private readonly int[] classIndex = reader.ClassNames.Select(c => labelsNeeded ? FileTargets.IndexOf(classes, c, reader.Path)
        : classes.ToList().IndexOf(c)).ToArray();

    public long Rows => reader.Rows;
    public int Dim => reader.Dim;
    public int TargetWidth => targets?.Width ?? 0;

    /// <summary>
    /// Every row's class index [N], from one pass over the file's labels in blocks (no features): what a path over C
    /// deals its folds by (<see cref="CrossValidation"/>).
    /// </summary>
    public int[] Labels()
    {
        var labels = new int[checked((int)Rows)];
        for (long start = 0; start < Rows; start += reader.BlockRows)
        {
            int count = (int)Math.Min(reader.BlockRows, Rows - start);
            Span<int> block = labels.AsSpan((int)start, count);
            reader.ReadRows(start, count, default, block);
            foreach (ref int label in block)
                label = classIndex[label];
        }
        return labels;
    }

    public void Read(long start, int count, RowBlock block)
    {
        Span<float> features = block.Features;
        // With targets the labels, the file's target rows and its weights are whole arrays: FileTargets makes sets of them.
        int[] labels = targets is null ? [] : new int[count];
        float[]? stored = targets is { Stored: true } ? new float[count * targets.Width] : null;
        float[] weights = targets is { Weights: true } ? new float[count] : [];
        reader.ReadRows(start, count, features, targets is null ? block.Labels : labels, stored, weights);
        if (targets is not null)
            labels.CopyTo(block.Labels);
        standardizer.ApplyInPlace(features, count); // as Standardizer.Apply: the same floats
        for (int r = 0; r < count; r++)
            block.Labels[r] = classIndex[block.Labels[r]];
        if (targets is not null)
        {
            block.Labels.CopyTo(labels);
            targets.Fill(labels, stored, weights, block.Targets);
        }
    }
}
