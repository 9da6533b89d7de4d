namespace SoftmaxGpu.Data;

/// <summary>
/// A LIBSVM file read whole and kept sparse: the CSR rows (<see cref="SparseRows"/>) and each row's label text, the
/// sparse counterpart of <see cref="Table"/>. One pass over the file: D is given or is the largest index seen.
/// Memory: 8 bytes a non-zero plus the row starts and the labels; never N·D.
/// </summary>
public sealed class SparseTable
{
    private readonly Func<int, string[]> naming;
    private string[]? featureNames;

    public SparseTable(string source, string[] featureNames, string labelName, SparseRows x, string[] labels)
        : this(source, _ => featureNames, labelName, x, labels)
    {
        if (featureNames.Length != x.Dim)
            throw new ArgumentException($"{x.Rows} rows of {x.Dim} features, but {featureNames.Length} feature names");
    }

    /// <summary>A table whose D feature names are made by <paramref name="naming"/> when first asked for (D may be too large to name).</summary>
    public static SparseTable Named(string source, Func<int, string[]> naming, string labelName, SparseRows x, string[] labels) =>
        new(source, naming, labelName, x, labels);

    /// <param name="naming">The feature names of D features, made when first asked for (a file may claim a D
    /// too large for them: the memory plan says so first).</param>
    private SparseTable(string source, Func<int, string[]> naming, string labelName, SparseRows x, string[] labels)
    {
        if (labels.Length != x.Rows)
            throw new ArgumentException($"{x.Rows} rows, but {labels.Length} labels");
        (Source, this.naming, LabelName, X, Labels) = (source, naming, labelName, x, labels);
    }

    public string Source { get; }
    public string[] FeatureNames => featureNames ??= naming(Dim);
    public string LabelName { get; }
    /// <summary>X: CSR rows [N, D].</summary>
    public SparseRows X { get; }
    /// <summary>Label text of each row: [N].</summary>
    public string[] Labels { get; }
    public int Rows => Labels.Length;
    public int Dim => X.Dim;

    /// <summary>Reads <paramref name="path"/> (LIBSVM; rules and messages are <see cref="LibSvmRowReader"/>'s) into CSR rows.</summary>
    /// <param name="labelOptional">Predict-time data: lines may start without a label.</param>
    public static SparseTable Read(string path, LibSvmOptions options, bool labelOptional = false)
    {
        using LibSvmRowReader reader = LibSvmRowReader.OnePass(path, options, labelOptional);
        long bytes = new FileInfo(path).Length;
        var rowStart = new Growing<int>(1024);
        rowStart.Add(0);
        var columns = new Growing<int>(bytes / 12 + 16); // LIBSVM text takes ~10-14 bytes a non-zero
        var values = new Growing<float>(bytes / 12 + 16);
        var labels = new List<string>();
        int largest = -1;
        while (reader.NextSparse(out string label, out ReadOnlySpan<int> rowColumns, out ReadOnlySpan<float> rowValues))
        {
            if ((long)columns.Count + rowColumns.Length > Array.MaxLength)
                throw new DataFormatException($"{path}: more than {Array.MaxLength} non-zeros to hold in memory; `softmaxgpu convert` it to a .sgd file");
            columns.Add(rowColumns);
            values.Add(rowValues);
            rowStart.Add(columns.Count);
            labels.Add(label);
            if (rowColumns.Length > 0)
                largest = Math.Max(largest, rowColumns[^1]);
        }
        if (labels.Count == 0)
            throw reader.NoRows();
        int dim = options.Features ?? (largest >= 0 ? largest + 1
            : throw new DataFormatException($"{path}: no line has an index:value entry, so the number of features is unknown; give --features N"));
        var x = new SparseRows(rowStart.ToArray(), columns.ToArray(), values.ToArray(), dim);
        return new SparseTable(path, options.FeatureNames, LibSvmRowReader.LabelNameFor(options), x, [.. labels]);
    }

    /// <summary>The classes of the labels in the order every class list uses (<see cref="Table.OrderClasses"/>).</summary>
    public string[] DistinctClasses() => Table.OrderClasses(Labels.Distinct(StringComparer.Ordinal));

    /// <summary>Class index of every row under <paramref name="classes"/>; a label outside them is an error.</summary>
    public int[] Encode(IReadOnlyList<string> classes) =>
        new Table(Source, [], LabelName, [], Labels).Encode(classes);

    /// <summary>The rows at <paramref name="rows"/>, in that order.</summary>
    public SparseTable Subset(int[] rows) =>
        new(Source, naming, LabelName, X.Select(rows), rows.Select(r => Labels[r]).ToArray());

    /// <summary>
    /// Each column's mean and (population) std over all N rows, zeros included, in float64: the same statistics
    /// <see cref="Standardizer.Fit(float[], int, int, FeatureScaling)"/> takes of the dense rows, from the non-zeros alone (two passes: the mean, then
    /// Σ(x − μ)² over the non-zeros plus (N − nnz_j)·μ² for the zeros).
    /// </summary>
    /// <param name="scaling">Std: mean and std; MaxAbs: mean 0 and max |x|; None: mean 0, std 1.</param>
    public Standardizer Statistics(FeatureScaling scaling = FeatureScaling.Std)
    {
        if (scaling == FeatureScaling.None)
            return Standardizer.Identity(Dim);
        if (scaling == FeatureScaling.MaxAbs)
        {
            var largest = new double[Dim];
            for (long e = 0; e < X.NonZeros; e++)
                largest[X.Columns[e]] = Math.Max(largest[X.Columns[e]], Math.Abs(X.Values[e]));
            for (int j = 0; j < Dim; j++)
                largest[j] = largest[j] > 0 ? largest[j] : 1.0;
            return new Standardizer(new double[Dim], largest);
        }
        int d = Dim;
        var mean = new double[d];
        var squares = new double[d];
        var count = new long[d];
        for (long e = 0; e < X.NonZeros; e++)
        {
            mean[X.Columns[e]] += X.Values[e];
            count[X.Columns[e]]++;
        }
        for (int j = 0; j < d; j++)
            mean[j] /= Rows;
        for (long e = 0; e < X.NonZeros; e++)
        {
            double delta = X.Values[e] - mean[X.Columns[e]];
            squares[X.Columns[e]] += delta * delta;
        }
        var std = new double[d];
        for (int j = 0; j < d; j++)
            std[j] = Standardizer.OneIfConstant(Math.Sqrt((squares[j] + (Rows - count[j]) * mean[j] * mean[j]) / Rows));
        return new Standardizer(mean, std);
    }

    /// <summary>An array that grows by doubling, as List does, but adds spans and hands out its exact array.</summary>
    private sealed class Growing<T>(long capacity)
    {
        private T[] items = new T[Math.Clamp(capacity, 16, Array.MaxLength)];

        public int Count { get; private set; }

        public void Add(T item) => Add([item]);

        public void Add(ReadOnlySpan<T> span)
        {
            if (Count + span.Length > items.Length)
                Array.Resize(ref items, (int)Math.Min(Array.MaxLength, Math.Max((long)items.Length * 2, (long)Count + span.Length)));
            span.CopyTo(items.AsSpan(Count));
            Count += span.Length;
        }

        public T[] ToArray() => items.Length == Count ? items : items[..Count];
    }
}
