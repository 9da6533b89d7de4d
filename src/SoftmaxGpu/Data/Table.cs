namespace SoftmaxGpu.Data;

/// <summary>
/// Rows as read from a file, before classes are encoded: numeric features and the raw label text.
/// Features: [N, D] row-major float32, as the device consumes them.
/// </summary>
public sealed class Table
{
    public Table(string source, string[] featureNames, string labelName, float[] features, string[] labels)
    {
        if (features.Length != labels.Length * featureNames.Length)
            throw new ArgumentException("features must hold N·D values");
        Source = source;
        FeatureNames = featureNames;
        LabelName = labelName;
        Features = features;
        Labels = labels;
    }

    /// <summary>File or folder the rows came from, for messages.</summary>
    public string Source { get; }
    public string[] FeatureNames { get; }
    public string LabelName { get; }
    /// <summary>X: [N, D] row-major.</summary>
    public float[] Features { get; }
    /// <summary>Label text of each row: [N].</summary>
    public string[] Labels { get; }
    public int Rows => Labels.Length;

    /// <summary>
    /// Read from a sparse format (LIBSVM), where most features are 0: the model scales them without centring, so zeros
    /// stay zeros (training centres them and folds the centre into the bias: <see cref="Training.Pipeline.ScaleOnly"/>).
    /// </summary>
    public bool Sparse { get; init; }
    public int Dim => FeatureNames.Length;

    /// <summary>The classes of the labels in a stable order: numeric order if all are integers, else ordinal.</summary>
    public string[] DistinctClasses() => OrderClasses(Labels.Distinct(StringComparer.Ordinal));

    /// <summary>Distinct class names in the order every class list uses: numeric if all are integers, else ordinal.</summary>
    public static string[] OrderClasses(IEnumerable<string> distinct)
    {
        string[] classes = distinct.ToArray();
        return classes.All(l => long.TryParse(l, out _))
            ? classes.OrderBy(long.Parse).ToArray()
            : classes.OrderBy(l => l, StringComparer.Ordinal).ToArray();
    }

    /// <summary>The error for training labels of a single class.</summary>
    public static DataFormatException OneClass(string source, string labelName, string? onlyClass) => onlyClass is null
        ? new($"{source}: no rows to train on (the label column '{labelName}' holds no class)")
        : new($"{source}: the label column '{labelName}' has only one class ('{onlyClass}'); a classifier needs at least two");

    /// <summary>Class index of every row under <paramref name="classes"/>; a label outside them is an error.</summary>
    public int[] Encode(IReadOnlyList<string> classes)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < classes.Count; k++)
            index[classes[k]] = k;
        var encoded = new int[Rows];
        var unseen = new SortedSet<string>(StringComparer.Ordinal);
        for (int r = 0; r < Rows; r++)
        {
            if (index.TryGetValue(Labels[r], out int k))
                encoded[r] = k;
            else
                unseen.Add(Labels[r]);
        }
        if (unseen.Count > 0)
            throw new DataFormatException(
                $"{Source}: label(s) {string.Join(", ", unseen.Take(10).Select(l => $"'{l}'"))} in column " +
                $"'{LabelName}' are not among the model's classes ({string.Join(", ", classes)})");
        return encoded;
    }

    /// <summary>The rows at <paramref name="rows"/>, in that order.</summary>
    public Table Subset(IReadOnlyList<int> rows)
    {
        int d = Dim;
        var features = new float[rows.Count * d];
        var labels = new string[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            Array.Copy(Features, (long)rows[i] * d, features, (long)i * d, d);
            labels[i] = Labels[rows[i]];
        }
        return new Table(Source, FeatureNames, LabelName, features, labels) { Sparse = Sparse };
    }
}
