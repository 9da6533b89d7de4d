using System.Globalization;
using SoftmaxGpu.Data;

namespace SoftmaxGpu.Training;

/// <summary>
/// Class weights (--class-weight), sample weights (--weight-column) and probability targets (--target-columns),
/// all trained as target mass.
///
/// Row i's weight is w_i = s_i·Σ_c cw_c·y_ic: its sample weight s_i (1 without a weight column) times its target row
/// y_i (one-hot of its label, or its probabilities) weighted by class. For a label that is s_i·cw_{y_i}, scikit-learn's
/// sample_weight × class_weight. The objective is
///     J = Σ_i w_i·CE_i / Σ_i w_i + (λ/2)‖W‖²,   λ = 1/(C·Σ_i w_i) by default,
/// scikit-learn's C·Σ_i w_i·CE_i + ½‖W‖² divided by C·Σw: the same optimum with the same weights and C (for a soft
/// target, w_i·CE_i reads Σ_c s_i·cw_c·y_ic·(−log q_ic), each class's term weighted by its class).
///
/// The device sees only targets: row i's target row is t_i = (N/Σw)·s_i·(cw ⊙ y_i), whose mass w'_i = w_i·N/Σw has
/// mean 1 over the training rows. The kernels' loss −Σ_c t_c log q_c is then w'_i·CE_i and their gradient
/// (Σ_c t_c)·q − t its gradient, so the usual batch mean (scale 1/B) is the weighted mean over a full batch, and over
/// a mini-batch an unbiased estimate of it. The validation loss stays the unweighted mean.
/// REVIEW: the training accuracy takes a row's largest target as its true class, so a row of weight 0 (all-zero
/// targets) counts as class 0's; the kernels would need the labels beside the targets to do better.
/// </summary>
public static class Weighting
{
    /// <summary>--class-weight balanced: w_c = N/(K·n_c), scikit-learn's class_weight='balanced'.</summary>
    public const string Balanced = "balanced";

    /// <summary>A probability row may differ from 1 by this much (|Σ_c y_c − 1| ≤ 1e-4); it is then divided by its sum.</summary>
    public const double TargetSumTolerance = 1e-4;

    /// <summary>
    /// --class-weight's (class, weight) pairs from "name=w,name=w,…", or null for <see cref="Balanced"/>; a malformed
    /// spec, a weight that is negative or not finite, or a class named twice is an error saying what is expected.
    /// </summary>
    public static IReadOnlyList<(string Name, double Weight)>? Parse(string spec)
    {
        if (spec.Trim() == Balanced)
            return null;
        var pairs = new List<(string Name, double Weight)>();
        foreach (string part in spec.Split(','))
        {
            int at = part.LastIndexOf('=');
            string name = at < 0 ? "" : part[..at].Trim();
            string text = at < 0 ? "" : part[(at + 1)..].Trim();
            if (name.Length == 0 || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double weight))
                throw new ArgumentException(
                    $"--class-weight must be '{Balanced}' or class=weight pairs separated by commas (e.g. a=2,b=0.5), got '{spec}'");
            if (!(weight >= 0) || !double.IsFinite(weight))
                throw new ArgumentException($"--class-weight: the weight of class '{name}' must be a finite number >= 0, got {text}");
            if (pairs.Any(p => p.Name == name))
                throw new ArgumentException($"--class-weight names class '{name}' twice");
            pairs.Add((name, weight));
        }
        return pairs;
    }

    /// <summary>--target-columns: at least two distinct, non-empty names, none of them the weight column.</summary>
    public static void CheckTargetColumns(IReadOnlyList<string> columns, string? weightColumn)
    {
        if (columns.Count < 2)
            throw new ArgumentException($"--target-columns needs at least two columns (one per class), got {columns.Count}");
        if (columns.Any(c => c.Length == 0))
            throw new ArgumentException("--target-columns: a column name is empty");
        if (columns.Distinct(StringComparer.Ordinal).Count() != columns.Count)
            throw new ArgumentException($"--target-columns names a column twice ({string.Join(",", columns)})");
        if (weightColumn is not null && columns.Contains(weightColumn, StringComparer.Ordinal))
            throw new ArgumentException($"--weight-column '{weightColumn}' is also one of --target-columns");
    }

    /// <summary>
    /// A table for <c>train</c> (<paramref name="training"/>) or its validation: with --target-columns every other
    /// column is a feature and each row's label is the class of its largest target (the first of equal ones). The
    /// target and weight columns are checked here, while rows still match the file's lines, and stay in the table
    /// (so a split keeps them with their rows) until <see cref="TakeColumns"/> takes them out.
    /// </summary>
    public static Table Load(string path, string? label, TrainOptions options, bool training,
        DataFormat format = DataFormat.Auto, LibSvmOptions? libsvm = null, CsvOptions? csv = null)
    {
        string[]? columns = options.TargetColumns;
        if (columns is not null)
            RequireColumns(path, format, csv, columns, "--target-columns");
        Table table = columns is null
            ? DataSource.Load(path, label, testSplit: !training, format: format, libsvm: libsvm, csv: csv)
            : DataSource.Load(path, TableColumns.NoLabel, testSplit: !training, labelOptional: true, format, libsvm, csv);
        (_, float[]? targets, _) = TakeColumns(table, options, training, row => TableColumns.Where(table.Source, row));
        if (targets is null)
            return table;
        var labels = new string[table.Rows];
        for (int r = 0; r < table.Rows; r++)
            labels[r] = columns![RowTargets.ArgMax(targets.AsSpan(r * columns.Length, columns.Length))];
        return new Table(table.Source, table.FeatureNames, "", table.Features, labels);
    }

    /// <summary>
    /// Every name of <paramref name="names"/> a column of the CSV file <paramref name="path"/>, checked from its header before
    /// its rows are read (else the first text cell of a column read as a feature would be the error). Only a file with a
    /// size is read for it: a pipe can be read once, by the read itself.
    /// </summary>
    private static void RequireColumns(string path, DataFormat format, CsvOptions? csv, string[] names, string option)
    {
        if (DataSource.KindOf(path, format) != DataKind.Csv || !File.Exists(path) || new FileInfo(path).Length == 0)
            return;
        string[] header = CsvRowReader.Header(path, csv);
        // Worded as convert's check of the same columns (ColumnSplit) words it.
        if (names.FirstOrDefault(name => !header.Contains(name, StringComparer.Ordinal)) is string missing)
            throw new DataFormatException($"{path}: {option} '{missing}' names no numeric column; the columns are: {string.Join(", ", header)}");
    }

    /// <summary>
    /// The table without its target and weight columns, the targets [N, K] (each row divided by its sum) and the
    /// sample weights [N]; null where the option is not given, or for weights where not <paramref name="weightsNeeded"/>
    /// (a validation table may lack the column). Bad values are errors naming <paramref name="where"/>(row).
    /// </summary>
    public static (Table Table, float[]? Targets, float[]? Weights) TakeColumns(Table table, TrainOptions options,
        bool weightsNeeded, Func<int, string>? where = null)
    {
        where ??= row => $"{table.Source}: row {row + 1}";
        float[]? weights = null, targets = null;
        if (options.WeightColumn is string column && (weightsNeeded || table.FeatureNames.Contains(column, StringComparer.Ordinal)))
        {
            (table, weights) = TableColumns.Take(table, [column], "--weight-column");
            CheckSampleWeights(weights, column, table.Source, where);
            if (!weightsNeeded)
                weights = null;
        }
        if (options.TargetColumns is string[] columns)
        {
            (table, targets) = TableColumns.Take(table, columns, "--target-columns");
            Normalize(targets, columns, where);
        }
        return (table, targets, weights);
    }

    /// <summary>Each weight finite and ≥ 0, and not all zero; else an error naming the row's place.</summary>
    public static void CheckSampleWeights(ReadOnlySpan<float> weights, string column, string source, Func<int, string> where)
    {
        bool any = false;
        for (int r = 0; r < weights.Length; r++)
            any |= CheckSampleWeight(weights[r], column, () => where(r));
        if (!any)
            throw AllWeightsZero(source, column);
    }

    /// <summary>One weight: finite and ≥ 0, else an error naming its place; true where it is above 0.</summary>
    public static bool CheckSampleWeight(float weight, string column, Func<string> where) =>
        weight >= 0 && float.IsFinite(weight) ? weight > 0
            : throw new DataFormatException($"{where()}: the weight in column '{column}' is {weight}; weights must be finite and >= 0");

    /// <summary>The error for a weight column of zeros only.</summary>
    public static DataFormatException AllWeightsZero(string source, string column) =>
        new($"{source}: every weight in column '{column}' is 0; at least one row must count");

    /// <summary>
    /// Checks every target row (values finite and ≥ 0, |Σ − 1| ≤ <see cref="TargetSumTolerance"/>) and divides it
    /// by its sum, so each row's mass is 1 to float precision.
    /// </summary>
    public static void Normalize(Span<float> targets, IReadOnlyList<string> columns, Func<int, string> where)
    {
        int k = columns.Count;
        for (int r = 0; r < targets.Length / k; r++)
        {
            Span<float> row = targets.Slice(r * k, k);
            double sum = 0;
            for (int c = 0; c < k; c++)
            {
                if (!(row[c] >= 0) || !float.IsFinite(row[c]))
                    throw new DataFormatException(
                        $"{where(r)}: the target in column '{columns[c]}' is {row[c]}; targets are probabilities, finite and >= 0");
                sum += row[c];
            }
            if (Math.Abs(sum - 1) > TargetSumTolerance)
                throw new DataFormatException(
                    $"{where(r)}: the targets in columns {string.Join(",", columns)} sum to {sum:G9}; they are class " +
                    $"probabilities and must sum to 1 (within {TargetSumTolerance:G2})");
            for (int c = 0; c < k; c++)
                row[c] = (float)(row[c] / sum);
        }
    }

    /// <summary>
    /// The training set with each row's target scaled by its weight, and the options with Σw (λ's default is then
    /// 1/(C·Σw)); unchanged where no weights are asked for.
    /// </summary>
    public static (EncodedSet Set, TrainOptions Options) Apply(EncodedSet set, IReadOnlyList<string> classes, TrainOptions options,
        float[]? sampleWeights)
    {
        if (!options.Weighted)
            return (set, options);
        double[]? classWeights = options.ClassWeight is string spec
            ? ClassWeights(spec, classes, AddClassMass(set, classes.Count, new double[classes.Count]), set.Rows)
            : null;
        (EncodedSet weighted, double sum) = Weighted(set, classes.Count, classWeights, sampleWeights);
        return (weighted, options with { WeightSum = sum });
    }

    /// <summary>
    /// Label smoothing and class weights of rows that carry labels alone (a .sgd file): both are functions of the
    /// class, so the rows get their targets from one [K, K] table (<see cref="LabelTargets"/>) as they stream, the
    /// same targets <see cref="Pipeline.Smoothed"/> and <see cref="Apply"/> write per row for a set in memory; Σw
    /// comes from one pass over the labels. Unchanged where neither is asked for.
    /// </summary>
    public static (IRowSource Rows, TrainOptions Options) ByLabel(IRowSource rows, IReadOnlyList<string> classes, TrainOptions options)
    {
        if (options.LabelSmoothing <= 0 && options.ClassWeight is null)
            return (rows, options);
        long[]? counts = options.ClassWeight is null ? null : LabelTargets.CountClasses(rows, classes.Count);
        (float[] table, options) = TargetTable(classes, options, counts, rows.Rows);
        return (LabelTargets.For(rows, table, classes.Count), options);
    }

    /// <summary>
    /// The target row of each class [K, K] under label smoothing and class weights (both functions of the class),
    /// weighted rows scaled to a mean weight of 1, and the options with Σw for λ = 1/(C·Σw). One-hot rows where
    /// neither is asked for. <paramref name="counts"/>: rows of each class (needed with class weights).
    /// </summary>
    public static (float[] Table, TrainOptions Options) TargetTable(IReadOnlyList<string> classes, TrainOptions options,
        long[]? counts, long rows)
    {
        int k = classes.Count;
        float[] table = LabelTargets.Smoothing(k, options.LabelSmoothing); // ε = 0: one-hot rows
        if (options.ClassWeight is not string spec)
            return (table, options);
        var mass = new double[k];
        for (int y = 0; y < k; y++)
            for (int c = 0; c < k; c++)
                mass[c] += counts![y] * (double)table[y * k + c];
        double[] classWeights = ClassWeights(spec, classes, mass, rows);
        double sum = 0;
        for (int y = 0; y < k; y++)
            for (int c = 0; c < k; c++)
                sum += counts![y] * classWeights[c] * table[y * k + c];
        if (!(sum > 0))
            throw new ArgumentException("every training row has weight 0 (class weight): there is nothing to fit");
        for (int y = 0; y < k; y++)
            for (int c = 0; c < k; c++)
                table[y * k + c] = (float)(classWeights[c] * table[y * k + c] * rows / sum);
        return (table, options with { WeightSum = sum });
    }

    /// <summary>
    /// Σ_r y_rc per class added into <paramref name="mass"/>: the target mass of each class over the rows (its row count
    /// for labels); over a file's chunks in order, the same sums as over the whole set.
    /// </summary>
    public static double[] AddClassMass(EncodedSet set, int k, double[] mass)
    {
        for (int r = 0; r < set.Rows; r++)
            for (int c = 0; c < k; c++)
                mass[c] += Target(set, r, c, k);
        return mass;
    }

    /// <summary>
    /// cw_c per class: <see cref="Balanced"/> gives N/(K·n_c), n_c the class's target mass <paramref name="mass"/> over
    /// the N rows (its row count for labels; not weighted by the sample weights, as scikit-learn's); named weights
    /// give theirs and 1 to the other classes. An unknown class name is an error listing the classes.
    /// </summary>
    public static double[] ClassWeights(string spec, IReadOnlyList<string> classes, double[] mass, long rows)
    {
        int k = classes.Count;
        var weights = new double[k];
        IReadOnlyList<(string Name, double Weight)>? pairs = Parse(spec);
        if (pairs is null)
        {
            for (int c = 0; c < k; c++)
                weights[c] = mass[c] > 0 ? rows / (k * mass[c])
                    : throw new ArgumentException(
                        $"--class-weight {Balanced}: class '{classes[c]}' has no training rows, so N/(K·n_c) has no value; name the weights instead");
            return weights;
        }
        Array.Fill(weights, 1.0);
        foreach ((string name, double weight) in pairs)
        {
            int c = classes.ToList().IndexOf(name);
            weights[c >= 0 ? c : throw new ArgumentException(
                $"--class-weight names class '{name}', which is not among the classes ({string.Join(", ", classes)})")] = weight;
        }
        return weights;
    }

    /// <summary>
    /// t_i = (N/Σw)·s_i·(cw ⊙ y_i) for every row (the type's summary), and Σw = Σ_i s_i·Σ_c cw_c·y_ic; all-zero
    /// weights are an error. <paramref name="classWeights"/> and <paramref name="sampleWeights"/> may be null (all 1).
    /// </summary>
    public static (EncodedSet Set, double WeightSum) Weighted(EncodedSet set, int k, double[]? classWeights, float[]? sampleWeights)
    {
        double sum = CheckedSum(AddWeightSum(set, k, classWeights, sampleWeights, 0));
        var targets = new float[(long)set.Rows * k];
        Scale(set, k, classWeights, sampleWeights, set.Rows, sum, targets);
        return (set with { Targets = targets }, sum);
    }

    /// <summary>Σw over the rows, Σ_i s_i·Σ_c cw_c·y_ic, added to <paramref name="sum"/> row by row (a file's chunks in order give the whole set's sum).</summary>
    public static double AddWeightSum(EncodedSet set, int k, double[]? classWeights, ReadOnlySpan<float> sampleWeights, double sum)
    {
        for (int r = 0; r < set.Rows; r++)
            for (int c = 0; c < k; c++)
                sum += Mass(set, r, c, k, classWeights, sampleWeights);
        return sum;
    }

    /// <summary>Σw, checked: all-zero weights are an error.</summary>
    public static double CheckedSum(double sum) => sum > 0 ? sum
        : throw new ArgumentException("every training row has weight 0 (sample weight × class weight): there is nothing to fit");

    /// <summary>The rows' target mass t_rc = s_r·cw_c·y_rc·N/Σw, in float64 rounded once, into <paramref name="targets"/> [rows, K].</summary>
    /// <param name="rows">N: every training row (the set may be one chunk of them).</param>
    public static void Scale(EncodedSet set, int k, double[]? classWeights, ReadOnlySpan<float> sampleWeights, long rows, double sum,
        Span<float> targets)
    {
        for (int r = 0; r < set.Rows; r++)
            for (int c = 0; c < k; c++)
                targets[r * k + c] = (float)(Mass(set, r, c, k, classWeights, sampleWeights) * rows / sum);
    }

    /// <summary>s_r·cw_c·y_rc in float64 (an empty <paramref name="sampleWeights"/> or null <paramref name="classWeights"/>: all 1).</summary>
    private static double Mass(EncodedSet set, int r, int c, int k, double[]? classWeights, ReadOnlySpan<float> sampleWeights)
    {
        double s = sampleWeights.IsEmpty ? 1 : sampleWeights[r];
        return s * (classWeights?[c] ?? 1) * Target(set, r, c, k);
    }

    /// <summary>y_rc: the soft target, or one-hot of the label.</summary>
    private static double Target(EncodedSet set, int r, int c, int k) =>
        set.Targets is float[] soft ? soft[(long)r * k + c] : set.Labels[r] == c ? 1 : 0;
}
