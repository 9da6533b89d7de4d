using SoftmaxGpu.Data;

namespace SoftmaxGpu.Training;

/// <summary>
/// A .sgd dataset file as rows for training, read block by block and standardized on the way with the file's
/// own statistics: host memory holds the staged block, never the set.
/// </summary>
public sealed class SgdRowSource(SgdReader reader, Standardizer standardizer, IReadOnlyList<string> classes) : IRowSource
{
    // The model's class index of each of the file's classes (the same list, unless validating against a model).
    private readonly int[] classIndex = reader.ClassNames.Select(c => IndexOf(classes, c, reader.Path)).ToArray();
    private readonly double[] mean = standardizer.Mean;
    private readonly double[] std = standardizer.Std;

    public long Rows => reader.Rows;
    public int Dim => reader.Dim;

    public void Read(long start, int count, Span<float> features, Span<int> labels)
    {
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

    private static int IndexOf(IReadOnlyList<string> classes, string name, string path)
    {
        for (int c = 0; c < classes.Count; c++)
            if (classes[c] == name)
                return c;
        throw new DataFormatException($"{path}: class '{name}' is not among the training classes ({string.Join(", ", classes)})");
    }
}
