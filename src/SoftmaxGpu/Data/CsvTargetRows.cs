using SoftmaxGpu.Training;

namespace SoftmaxGpu.Data;

/// <summary>
/// A CSV read one row at a time as <c>train</c> reads it whole for its targets (<see cref="RowTargets"/>): a label
/// column, probability columns (<see cref="Weighting.Load"/>), 0/1 tag columns or a tags column (<see cref="TagTable.Load"/>),
/// and a weight column — with the same column lookups (<see cref="ColumnSplit"/>), per-row checks and messages, so
/// <c>convert</c> rejects what <c>train</c> rejects. Memory: one row.
/// </summary>
public sealed class CsvTargetRows : IDisposable
{
    private readonly CsvRowReader reader;
    private readonly ColumnSplit? weightSplit; // the weight column out of the file's features
    private readonly ColumnSplit? targetSplit; // then the probability or tag columns out of the rest
    private readonly Dictionary<string, int>? tagIndex; // a tags column's tags → Y's columns
    private readonly float[] row;   // [the reader's D]: every numeric column of the row
    private readonly float[] rest;  // [the reader's D − 1] the row without its weight
    private readonly float[] weight = new float[1];
    private readonly HashSet<string> unseen = [];
    private bool anyWeight;

    /// <param name="targets">What the rows carry; a tags column's tags (<see cref="RowTargets.Names"/>) must be known
    /// (<see cref="Tags"/> finds them in a first pass).</param>
    public CsvTargetRows(string path, RowTargets targets, CsvOptions? csv = null)
    {
        bool columns = targets.Kind is RowTargetKind.Probabilities or RowTargetKind.MultiLabelColumns;
        if (targets.Kind == RowTargetKind.MultiLabelColumns)
            TagTable.CheckTagNames(string.Join(',', targets.Names!), targets.Names!);
        reader = columns
            ? new CsvRowReader(path, CsvRowReader.AllFeatures, labelOptional: true, columns: csv)
            : new CsvRowReader(path, targets.Label, emptyLabels: targets.IsMultiLabel, columns: csv);
        try
        {
            if (targets.Kind == RowTargetKind.MultiLabelColumns)
                TagTable.CheckTagColumns(path, targets.Names!, reader.FeatureNames);
            string[] names = reader.FeatureNames;
            if (targets.WeightColumn is string w)
                names = (weightSplit = new ColumnSplit(path, names, reader.LabelName, [w], "--weight-column")).Kept;
            if (columns)
                names = (targetSplit = new ColumnSplit(path, names, reader.LabelName, targets.Names!,
                    targets.Kind == RowTargetKind.Probabilities ? "--target-columns" : "--label")).Kept;
            if (targets.Kind == RowTargetKind.MultiLabelTags)
                tagIndex = TagTable.IndexOf(targets.Names ?? throw new ArgumentException("a tags column's tags must be known", nameof(targets)));
            FeatureNames = names;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
        Targets = targets with { Label = targets.Kind is RowTargetKind.Labels or RowTargetKind.MultiLabelTags ? reader.LabelName : null };
        row = new float[reader.Dim];
        rest = new float[Math.Max(0, reader.Dim - 1)];
    }

    public string Path => reader.Path;
    /// <summary>The feature columns: the file's numeric columns without the label, target, tag and weight columns.</summary>
    public string[] FeatureNames { get; }
    /// <summary>The label or tags column ("" with probability or tag columns, as train's tables name it).</summary>
    public string LabelName => reader.LabelName;
    /// <summary>What the rows carry, the label column resolved.</summary>
    public RowTargets Targets { get; }
    public int Dim => FeatureNames.Length;
    /// <summary>Data rows read so far.</summary>
    public long RowsRead => reader.RowsRead;

    /// <summary>
    /// The next row: its features, its label text (labels, tags column), its target row (<see cref="RowTargets.Width"/>
    /// values: probabilities divided by their sum, or 0/1 tags) and its weight (1 without a weight column). False at the end.
    /// </summary>
    public bool Next(Span<float> features, out string label, Span<float> targets, out float weight)
    {
        weight = 1;
        if (!reader.Next(row, out label))
            return false;
        long r = reader.RowsRead - 1;
        ReadOnlySpan<float> values = row;
        if (weightSplit is not null)
        {
            weightSplit.Apply(values, this.weight, rest);
            weight = this.weight[0];
            anyWeight |= Weighting.CheckSampleWeight(weight, Targets.WeightColumn!, () => TableColumns.Where(Path, (int)r));
            values = rest;
        }
        if (targetSplit is null)
            values.CopyTo(features);
        else
            targetSplit.Apply(values, targets, features);
        if (Targets.Kind == RowTargetKind.Probabilities)
            Weighting.Normalize(targets, Targets.Names!, _ => TableColumns.Where(Path, (int)r));
        else if (Targets.Kind == RowTargetKind.MultiLabelColumns)
            TagTable.CheckTagRow(targets, Targets.Names!, Path, r);
        else if (tagIndex is not null)
            TagTable.EncodeRow(label, tagIndex, targets, unseen);
        return true;
    }

    /// <summary>The checks on the whole file once every row is read: rows under the header, and a weight above 0.</summary>
    public void Finish()
    {
        if (reader.RowsRead == 0)
            throw reader.NoRows();
        if (weightSplit is not null && !anyWeight)
            throw Weighting.AllWeightsZero(Path, Targets.WeightColumn!);
    }

    /// <summary>
    /// A tags column's tags, in a first pass over the file (Y's width must be known before the first block): every
    /// tag, ordered as class lists are. Without --label, a last column of 0 and 1 only is refused as train refuses it.
    /// </summary>
    public static string[] Tags(string path, RowTargets targets, CsvOptions? csv = null)
    {
        using var reader = new CsvRowReader(path, targets.Label, emptyLabels: true, columns: csv);
        var tags = new HashSet<string>(StringComparer.Ordinal);
        var row = new float[reader.Dim];
        bool[] zeroOne = Enumerable.Repeat(true, reader.Dim).ToArray(); // [D] column j holds only 0 and 1
        bool labelsZeroOne = true;
        while (reader.Next(row, out string label))
        {
            tags.UnionWith(TagTable.Split(label));
            labelsZeroOne &= label is "0" or "1";
            for (int j = 0; j < row.Length; j++)
                zeroOne[j] &= row[j] is 0f or 1f;
        }
        if (reader.RowsRead == 0)
            throw reader.NoRows();
        if (targets.Label is null && labelsZeroOne)
            throw TagTable.ZeroOneTagsColumn(path, reader.FeatureNames, reader.LabelName, j => zeroOne[j]);
        return TagTable.DistinctTags(path, tags);
    }

    public void Dispose() => reader.Dispose();
}
