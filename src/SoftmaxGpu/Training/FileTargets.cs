using SoftmaxGpu.Data;

namespace SoftmaxGpu.Training;

/// <summary>
/// How the target rows and weights a .sgd file keeps (<see cref="SgdReader.Targets"/>) become the rows' targets on the
/// device, a block at a time as <see cref="SgdRowSource"/> reads them: as stored (multi-label tag sets), or as training
/// from the CSV makes them in memory — probability rows (or one-hot labels) smoothed (<see cref="Pipeline.Smoothed"/>),
/// weighted by class and by the file's sample weights and scaled to a mean mass of 1 (<see cref="Weighting"/>'s
/// <see cref="Weighting.Scale"/>), the same floats row for row. What needs every row (class mass, Σw) comes from passes
/// over the file's labels, targets and weights first (no features), in row order, so the sums are the resident ones too.
/// </summary>
public sealed class FileTargets
{
    private readonly float epsilon;        // label smoothing ε
    private readonly double[]? classWeights; // [K] cw, or null
    private readonly double? weightSum;    // Σw where the rows are weighted (then scaled to mean mass 1), else null
    private readonly long rows;            // N

    private FileTargets(int width, bool stored, bool weights, float epsilon, double[]? classWeights, double? weightSum, long rows)
    {
        (Width, Stored, Weights, this.epsilon, this.classWeights, this.weightSum, this.rows) =
            (width, stored, weights, epsilon, classWeights, weightSum, rows);
    }

    /// <summary>K: the target row's width.</summary>
    public int Width { get; }
    /// <summary>Whether the file's own target rows are read.</summary>
    public bool Stored { get; }
    /// <summary>Whether the file's weights are read.</summary>
    public bool Weights { get; }

    /// <summary>The file's target rows as they are (multi-label tag sets, and their validation).</summary>
    public static FileTargets AsStored(SgdReader file) => new(file.TargetWidth, true, false, 0, null, null, file.Rows);

    /// <summary>
    /// The targets training from the CSV would make of <paramref name="file"/>'s rows under <paramref name="options"/>
    /// (smoothing, class weights, the file's weights), and the options with Σw where the rows are weighted.
    /// </summary>
    public static (FileTargets Targets, TrainOptions Options) Weighted(SgdReader file, IReadOnlyList<string> classes, TrainOptions options)
    {
        int k = classes.Count;
        var raw = new FileTargets(k, file.TargetWidth > 0, file.HasWeights, options.LabelSmoothing, null, null, file.Rows);
        double[]? classWeights = options.ClassWeight is string spec
            ? Weighting.ClassWeights(spec, classes, raw.Pass(file, classes, new double[k], (chunk, _, mass) => Weighting.AddClassMass(chunk, k, mass)), file.Rows)
            : null;
        double? sum = null;
        if (options.Weighted)
        {
            sum = Weighting.CheckedSum(raw.Pass(file, classes, 0.0,
                (chunk, weights, total) => Weighting.AddWeightSum(chunk, k, classWeights, weights, total)));
            options = options with { WeightSum = sum };
        }
        return (new FileTargets(k, raw.Stored, raw.Weights, options.LabelSmoothing, classWeights, sum, file.Rows), options);
    }

    /// <summary>
    /// One pass over the file's rows in chunks (labels mapped to <paramref name="classes"/>, stored targets smoothed, weights):
    /// <paramref name="add"/> folds each chunk into the total.
    /// </summary>
    private T Pass<T>(SgdReader file, IReadOnlyList<string> classes, T total, Func<EncodedSet, float[], T, T> add)
    {
        int chunk = (int)Math.Clamp(GradientEngine.BlockFloats / Math.Max(1, Width + 2), 1, Math.Max(1, file.Rows));
        int[] map = file.ClassNames.Select(c => IndexOf(classes, c, file.Path)).ToArray();
        for (long start = 0; start < file.Rows; start += chunk)
        {
            int count = (int)Math.Min(chunk, file.Rows - start);
            var labels = new int[count];
            float[]? stored = Stored ? new float[count * Width] : null;
            float[] weights = Weights ? new float[count] : [];
            file.ReadRows(start, count, default, labels, stored, weights);
            for (int r = 0; r < count; r++)
                labels[r] = map[labels[r]];
            total = add(Smoothed(labels, stored), weights, total);
        }
        return total;
    }

    /// <summary>A chunk's labels and stored targets as a set (no features), smoothed as <see cref="Pipeline.Smoothed"/> smooths a set in memory.</summary>
    private EncodedSet Smoothed(int[] labels, float[]? stored) =>
        Pipeline.Smoothed(new EncodedSet([], labels, stored, labels.Length, 0), Width, epsilon);

    /// <summary>
    /// The device's target rows of a block [count, K] into <paramref name="targets"/>, from its labels (indices into the
    /// classes trained), the file's target rows [count, K] (null where not <see cref="Stored"/>) and weights [count].
    /// </summary>
    public void Fill(int[] labels, float[]? stored, float[] weights, Span<float> targets)
    {
        if (epsilon == 0 && weightSum is null)
        {
            stored.AsSpan().CopyTo(targets);
            return;
        }
        EncodedSet set = Smoothed(labels, stored);
        if (weightSum is double sum)
            Weighting.Scale(set, Width, classWeights, weights, rows, sum, targets);
        else
            set.Targets.AsSpan().CopyTo(targets);
    }

    /// <summary>The index of class <paramref name="name"/> among those trained; one outside them is an error.</summary>
    internal static int IndexOf(IReadOnlyList<string> classes, string name, string path)
    {
        for (int c = 0; c < classes.Count; c++)
            if (classes[c] == name)
                return c;
        throw new DataFormatException($"{path}: class '{name}' is not among the model's classes ({string.Join(", ", classes)})");
    }
}
