using SoftmaxGpu.Model;

namespace SoftmaxGpu.Data;

/// <summary>
/// Multi-label data: each row has a set of tags, read either from one column of '|'-separated tags (an empty
/// cell: no tag) or from one 0/1 column per tag (`--label a,b,c`). Both become a <see cref="Table"/> whose label
/// text is the row's tag set joined by '|', so everything after loading (tags, the 0/1 target matrix, subsets for
/// a validation split) is the same for both. CSV data, or a .sgd file converted from it (its tags read back as a tags
/// column). LIBSVM multi-label rows (<c>3,17,42 1:0.5 …</c>) get the same label text from their tag list as they are
/// read (<see cref="FromList"/>), kept sparse (<see cref="SparseTable"/>).
/// </summary>
public static class TagTable
{
    /// <summary>Between the tags of a row's label text (and of a predicted tag set).</summary>
    public const char Separator = '|';

    /// <summary>Between the tags of a LIBSVM multi-label line's first token (<c>3,17,42</c>).</summary>
    public const char ListSeparator = ',';

    /// <summary>The kind a --label value gives: several comma-separated columns are one 0/1 column per tag.</summary>
    public static ModelKind KindOf(string? label) =>
        label is not null && label.Contains(',') ? ModelKind.MultiLabelColumns : ModelKind.MultiLabelTags;

    /// <summary>The tag columns a --label value names, or null for the tags-column form.</summary>
    public static string[]? TagColumns(string? label) =>
        KindOf(label) == ModelKind.MultiLabelColumns ? label!.Split(',').Select(c => c.Trim()).ToArray() : null;

    /// <summary>
    /// Reads a CSV of multi-label rows: the tags column named by <paramref name="label"/> (default the last), or the
    /// 0/1 columns it lists. With <paramref name="labelOptional"/> (prediction) the label column(s) may be absent.
    /// </summary>
    /// <param name="csv">The separator and the columns left out (<see cref="CsvOptions"/>).</param>
    public static Table Load(string path, string? label, bool labelOptional = false, CsvOptions? csv = null)
    {
        switch (DataSource.KindOf(path))
        {
            case DataKind.Folder:
                throw new DataFormatException($"{path}: multi-label data is read from a CSV file (with a tags column or 0/1 tag columns)");
            case DataKind.Sgd or DataKind.SparseSgd:
                return LoadSgd(path, labelOptional);
        }
        string[]? columns = TagColumns(label);
        if (columns is null)
        {
            Table tags = CsvTableReader.Read(path, label, labelOptional, emptyLabels: true, columns: csv);
            if (label is null && tags.Labels.All(l => l is "0" or "1"))
                throw ZeroOneTagsColumn(tags.Source, tags.FeatureNames, tags.LabelName, j => ZeroOne(tags, j));
            return tags;
        }
        CheckTagNames(label!, columns);
        Table all = CsvTableReader.Read(path, CsvRowReader.AllFeatures, labelOptional: true, columns: csv);
        if (columns.All(c => !all.FeatureNames.Contains(c)) && labelOptional)
            return all;
        CheckTagColumns(path, columns, all.FeatureNames);
        return FromColumns(all, columns);
    }

    /// <summary>
    /// A .sgd file's rows whole (<see cref="SgdReader.ToTable"/>): a multi-label file's tags as a tags column; without
    /// <paramref name="labelOptional"/> (evaluation) the file must be one converted with --multi-label.
    /// </summary>
    private static Table LoadSgd(string path, bool labelOptional)
    {
        using SgdReader reader = SgdReader.Open(path);
        if (!labelOptional && !reader.Targets.IsMultiLabel)
            throw new DataFormatException($"{path}: a .sgd file of {reader.Targets.Describe()}, not multi-label rows; " +
                                          "convert the CSV with --multi-label --label ... for a file of tag sets");
        return reader.ToTable();
    }

    /// <summary>--label's tag columns (<paramref name="columns"/>, from <paramref name="label"/>): each named once.</summary>
    public static void CheckTagNames(string label, string[] columns)
    {
        if (columns.Any(c => c.Length == 0) || columns.Distinct().Count() != columns.Length)
            throw new ArgumentException($"--label '{label}': name each tag column once, separated by commas");
    }

    /// <summary>--label's tag columns against a CSV's columns: every one in the header, and some column left for the features.</summary>
    public static void CheckTagColumns(string path, string[] columns, string[] header)
    {
        string[] missing = columns.Where(c => !header.Contains(c)).ToArray();
        if (missing.Length > 0)
            throw new DataFormatException(
                $"{path}: --label names tag column(s) {string.Join(", ", missing.Select(c => $"'{c}'"))} " +
                $"that are not in the header ({string.Join(", ", header)})");
        if (columns.Length == header.Length)
            throw new DataFormatException($"{path}: every column is a tag column; there are no features");
    }

    /// <summary>
    /// Without --label the last column is read as '|'-separated tags; where it holds only 0 and 1 it is far more
    /// likely the last of several 0/1 tag columns (emotions.csv), which would silently become one tag and turn the
    /// others into features. That is an error listing the trailing 0/1 columns (<paramref name="zeroOne"/>: whether
    /// feature column j holds only 0 and 1); they are not taken all by default, since a binary feature just before
    /// the tags is also a trailing 0/1 column.
    /// </summary>
    public static DataFormatException ZeroOneTagsColumn(string source, string[] featureNames, string labelName, Func<int, bool> zeroOne)
    {
        int first = featureNames.Length;
        while (first > 0 && zeroOne(first - 1))
            first--;
        string[] trailing = [.. featureNames[first..], labelName];
        return new DataFormatException(
            $"{source}: --multi-label without --label reads the last column ('{labelName}') as '|'-separated " +
            $"tags, but it holds only 0 and 1, as one of several 0/1 tag columns does. The file ends in {trailing.Length} " +
            $"0/1 column(s): {string.Join(", ", trailing)}. Name the tag columns: --label {string.Join(',', trailing)} " +
            "(leaving out any that are features), or --label with the name of a tags column.");
    }

    /// <summary>Whether feature column <paramref name="j"/> holds only 0 and 1.</summary>
    private static bool ZeroOne(Table table, int j)
    {
        for (long at = j; at < table.Features.Length; at += table.Dim)
        {
            if (table.Features[at] is not (0f or 1f))
                return false;
        }
        return true;
    }

    /// <summary>The table without its tag columns (<see cref="TableColumns.Take"/>), each row labelled with the tags whose column holds 1.</summary>
    private static Table FromColumns(Table all, string[] columns)
    {
        (Table features, float[] values) = TableColumns.Take(all, columns, "--label");
        int k = columns.Length;
        var labels = new string[all.Rows];
        for (int r = 0; r < all.Rows; r++)
        {
            ReadOnlySpan<float> row = values.AsSpan(r * k, k);
            CheckTagRow(row, columns, all.Source, r);
            labels[r] = Join(row, columns);
        }
        return new Table(all.Source, features.FeatureNames, "", features.Features, labels);
    }

    /// <summary>Data row <paramref name="row"/>'s tag columns hold 0 or 1 each; else an error naming the row and column.</summary>
    public static void CheckTagRow(ReadOnlySpan<float> values, IReadOnlyList<string> columns, string source, long row)
    {
        for (int t = 0; t < values.Length; t++)
        {
            if (values[t] is not (0f or 1f))
                throw new DataFormatException($"{source}: data row {row + 1}, tag column '{columns[t]}': {values[t]} is not 0 or 1");
        }
    }

    /// <summary>The tags of a 0/1 row (those at 1), joined by '|' as a tags column holds them.</summary>
    public static string Join(ReadOnlySpan<float> values, IReadOnlyList<string> tags)
    {
        var on = new List<string>();
        for (int t = 0; t < values.Length; t++)
        {
            if (values[t] >= 0.5f)
                on.Add(tags[t]);
        }
        return string.Join(Separator, on);
    }

    /// <summary>A row's tags: its label split at '|', trimmed, empty pieces dropped.</summary>
    public static string[] Split(string label) =>
        label.Split(Separator, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// A LIBSVM multi-label tag list (<c>3,17,42</c>) into <paramref name="label"/> (as long as the list) as a row's label
    /// text (<c>3|17|42</c>); returns null, or what is wrong and where (<paramref name="at"/>, 0-based in the list): an empty
    /// tag (<c>1,,2</c>, a ',' first or last), a tag given twice, or a tag holding '|'. Tags are text, as class labels are
    /// (<c>1,a</c> is the tags 1 and a; all integers, they are ordered numerically).
    /// </summary>
    public static string? FromList(ReadOnlySpan<char> list, Span<char> label, out int at)
    {
        int start = 0; // the current tag's first character
        for (at = 0; at <= list.Length; at++)
        {
            if (at < list.Length && list[at] != ListSeparator)
            {
                label[at] = list[at];
                if (list[at] == Separator)
                    return $"the tag list '{list}' holds '{Separator}', which separates the tags of a predicted tag set; rename the tag";
                continue;
            }
            ReadOnlySpan<char> tag = list[start..at];
            if (tag.Length == 0)
                return $"the tag list '{list}' has an empty tag: tags are separated by single commas, none before the first or after the last";
            if (start > 0)
                foreach (Range earlier in list[..(start - 1)].Split(ListSeparator))
                    if (list[earlier].SequenceEqual(tag))
                    {
                        at = start;
                        return $"the tag list '{list}' names tag '{tag}' twice";
                    }
            if (at < list.Length)
                label[at] = Separator;
            start = at + 1;
        }
        at = 0;
        return null;
    }

    /// <summary>Every tag of the table, in the order class lists use (<see cref="Table.OrderClasses"/>).</summary>
    public static string[] DistinctTags(Table table) => DistinctTags(table.Source, table.Labels);

    /// <summary>Every tag of rows labelled <paramref name="labels"/> (tag sets joined by '|'), ordered as class lists are.</summary>
    public static string[] DistinctTags(string source, IEnumerable<string> labels)
    {
        string[] tags = Table.OrderClasses(labels.Distinct(StringComparer.Ordinal).SelectMany(Split).Distinct(StringComparer.Ordinal));
        if (tags.Length == 0)
            throw new DataFormatException($"{source}: no row has a tag; a multi-label model needs at least one");
        return tags;
    }

    /// <summary>Each tag's column in Y: its place in <paramref name="tags"/>.</summary>
    public static Dictionary<string, int> IndexOf(IReadOnlyList<string> tags)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < tags.Count; k++)
            index[tags[k]] = k;
        return index;
    }

    /// <summary>A tags label as a 0/1 row of Y (<paramref name="row"/>, zeroed first); a tag not in <paramref name="index"/> goes to <paramref name="unseen"/>.</summary>
    public static void EncodeRow(string label, Dictionary<string, int> index, Span<float> row, ISet<string> unseen)
    {
        row.Clear();
        foreach (string tag in Split(label))
        {
            if (index.TryGetValue(tag, out int k))
                row[k] = 1f;
            else
                unseen.Add(tag);
        }
    }

    /// <summary>The 0/1 target matrix Y [N, K] of the rows under <paramref name="tags"/>; a tag outside them is an error.</summary>
    public static float[] Encode(Table table, IReadOnlyList<string> tags) => Encode(table.Source, table.Labels, tags);

    /// <summary>Y [N, K] of rows labelled <paramref name="labels"/> (tag sets joined by '|') under <paramref name="tags"/>.</summary>
    public static float[] Encode(string source, IReadOnlyList<string> labels, IReadOnlyList<string> tags)
    {
        Dictionary<string, int> index = IndexOf(tags);
        var targets = new float[(long)labels.Count * tags.Count];
        var unseen = new SortedSet<string>(StringComparer.Ordinal);
        for (int r = 0; r < labels.Count; r++)
            EncodeRow(labels[r], index, targets.AsSpan((int)((long)r * tags.Count), tags.Count), unseen);
        if (unseen.Count > 0)
            throw new DataFormatException(
                $"{source}: tag(s) {string.Join(", ", unseen.Take(10).Select(t => $"'{t}'"))} are not among the " +
                $"model's tags ({string.Join(", ", tags)})");
        return targets;
    }

    /// <summary>
    /// The rows a model predicts on: the model's feature columns by name, in any order, and its tag column(s) where
    /// present (needed with <paramref name="labelsNeeded"/>); every other column is left unread.
    /// </summary>
    /// <param name="label">The tags column or 0/1 tag columns (evaluate --label); default: the model's.</param>
    public static Table ForModel(SoftmaxModel model, string path, bool labelsNeeded, CsvOptions? csv = null, string? label = null)
    {
        csv ??= CsvOptions.Default;
        label ??= model.Kind == ModelKind.MultiLabelColumns ? string.Join(',', model.Classes) : model.LabelName;
        if (TagColumns(label) is not string[] columns)
            return Load(path, label, labelOptional: !labelsNeeded, csv with { Features = model.FeatureNames });
        string[] present = File.Exists(path) && DataSource.KindOf(path) == DataKind.Csv
            ? columns.Intersect(CsvRowReader.Header(path, csv), StringComparer.Ordinal).ToArray()
            : [];
        return Load(path, label, labelOptional: !labelsNeeded, csv with { Features = [.. model.FeatureNames, .. present] });
    }
}
