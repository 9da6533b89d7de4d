using System.Numerics;
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
    // The model's class index of each of the file's classes (the same list, unless read against a model).
    private readonly int[] classIndex = reader.ClassNames.Select(c => labelsNeeded ? FileTargets.IndexOf(classes, c, reader.Path)
        : classes.ToList().IndexOf(c)).ToArray();
    private readonly double[] mean = standardizer.Mean;
    private readonly double[] std = standardizer.Std;

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

    /// <summary>
    /// x ← (float)((x − μ_j) / σ_j) in float64 over <paramref name="count"/> rows, as <see cref="Standardizer.Apply"/>
    /// computes it (the same floats: widening is exact, and a vector lane's subtraction, division and rounding are the
    /// scalar ones), vectors of a row at a time, the rows split over the cores: a streamed pass's reading had been bound
    /// by this loop (MNIST from its .sgd file: 0.33 s a pass, against 0.02 s for the pass itself in memory).
    /// </summary>
    private unsafe void Standardize(Span<float> features, int count)
    {
        int d = Dim;
        fixed (float* x = features)
        fixed (double* mu = mean, sigma = std)
        {
            (nint rows, nint m, nint s) = ((nint)x, (nint)mu, (nint)sigma);
            int workers = (int)Math.Clamp((long)count * d / (1 << 18), 1, Environment.ProcessorCount);
            Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
            {
                for (int r = (int)((long)count * w / workers), end = (int)((long)count * (w + 1) / workers); r < end; r++)
                    StandardizeRow(new Span<float>((float*)rows + (long)r * d, d), new ReadOnlySpan<double>((double*)m, d),
                        new ReadOnlySpan<double>((double*)s, d));
            });
        }
    }

    private static void StandardizeRow(Span<float> row, ReadOnlySpan<double> mean, ReadOnlySpan<double> std)
    {
        int j = 0, width = Vector<float>.Count, half = Vector<double>.Count;
        if (Vector.IsHardwareAccelerated)
        {
            for (; j + width <= row.Length; j += width)
            {
                Vector.Widen(new Vector<float>(row[j..]), out Vector<double> low, out Vector<double> high);
                low = (low - new Vector<double>(mean[j..])) / new Vector<double>(std[j..]);
                high = (high - new Vector<double>(mean[(j + half)..])) / new Vector<double>(std[(j + half)..]);
                Vector.Narrow(low, high).CopyTo(row[j..]);
            }
        }
        for (; j < row.Length; j++)
            row[j] = (float)((row[j] - mean[j]) / std[j]);
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
        Standardize(features, count);
        for (int r = 0; r < count; r++)
            block.Labels[r] = classIndex[block.Labels[r]];
        if (targets is not null)
        {
            block.Labels.CopyTo(labels);
            targets.Fill(labels, stored, weights, block.Targets);
        }
    }
}
