using SoftmaxGpu.Data;
using SoftmaxGpu.Model;

namespace SoftmaxGpu.Cli;

/// <summary>
/// predict and evaluate read a model's feature columns by name and leave the others unread (an id, a weight column,
/// probability columns): one "note:" line names those, so that a column dropped by mistake is seen.
/// </summary>
public static class UnusedColumns
{
    /// <summary>Writes the note for a CSV <paramref name="data"/> file that has columns the model does not read.</summary>
    /// <param name="label">The label column evaluate reads (--label, else the model's); it is not noted.</param>
    public static void Note(TextWriter error, SoftmaxModel model, string data, string? label, DataFormat format, CsvOptions csv)
    {
        if (!File.Exists(data) || !DataSource.KindOf(data, format).HasNamedColumns())
            return;
        var read = new HashSet<string>(model.FeatureNames, StringComparer.Ordinal) { label ?? model.LabelName };
        if (model.Kind == ModelKind.MultiLabelColumns)
            read.UnionWith(model.Classes);
        if (model.Kind.IsMultiLabel() && TagTable.TagColumns(label) is string[] tagColumns)
            read.UnionWith(tagColumns);
        string[] unused = CsvRowReader.Header(data, csv).Where(c => !read.Contains(c)).ToArray();
        if (unused.Length > 0)
            error.WriteLine($"note: {data}: {unused.Length} column(s) that are not model features left out: " +
                            string.Join(", ", unused.Take(20)) + (unused.Length > 20 ? ", …" : ""));
    }
}
