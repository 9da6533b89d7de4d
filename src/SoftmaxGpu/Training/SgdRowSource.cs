using SoftmaxGpu.Data;

namespace SoftmaxGpu.Training;

/// <summary>
/// A .sgd dataset file as rows for training, read block by block and standardized on the way with the file's
/// own statistics: host memory holds the staged block, never the set.
/// </summary>
/// <param name="labelsNeeded">False for prediction: a class the model does not know reads as −1 instead of an error.</param>
public sealed class SgdRowSource(SgdReader reader, Standardizer standardizer, IReadOnlyList<string> classes,
    bool labelsNeeded = true) : IRowSource
{
    // The model's class index of each of the file's classes (the same list, unless read against a model).
    private readonly int[] classIndex = reader.ClassNames.Select(c => IndexOf(classes, c, reader.Path, labelsNeeded)).ToArray();
    private readonly double[] mean = standardizer.Mean;
    private readonly double[] std = standardizer.Std;

    public long Rows => reader.Rows;
    public int Dim => reader.Dim;
    public int TargetWidth => 0;

    public void Read(long start, int count, RowBlock block)
    {
        Span<float> features = block.Features;
        Span<int> labels = block.Labels;
        reader.ReadRows(start, count, features, labels);
        int d = Dim;
        for (int r = 0; r < count; r++)
        {
            Span<float> row = features.Slice(r * d, d);
            for (int j = 0; j < d; j++)
                row[j] = (float)((row[j] - mean[j]) / std[j]); // as Standardizer.Apply: the same floats
            labels[r] = classIndex[labels[r]];
        }
    }

    private static int IndexOf(IReadOnlyList<string> classes, string name, string path, bool required)
    {
        for (int c = 0; c < classes.Count; c++)
            if (classes[c] == name)
                return c;
        return required
            ? throw new DataFormatException($"{path}: class '{name}' is not among the model's classes ({string.Join(", ", classes)})")
            : -1;
    }
}
