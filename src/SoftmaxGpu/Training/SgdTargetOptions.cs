using SoftmaxGpu.Data;

namespace SoftmaxGpu.Training;

/// <summary>
/// A dense .sgd file's rows carry what they were converted with (<see cref="SgdReader.Targets"/>): a label, probability
/// targets, tags, weights. Training from it takes them as training from the CSV with those options would, so the options
/// that name them may be left out, or given again as they were; naming other columns, or asking for what the file does not
/// hold, is one error that says how to convert it.
/// </summary>
public static class SgdTargetOptions
{
    /// <summary>
    /// The options training from <paramref name="file"/> runs with: --target-columns and --weight-column as the file
    /// holds them (so λ's default and Σw follow the weights); <paramref name="label"/> and <paramref name="multiLabel"/>
    /// (--label, --multi-label) checked against it.
    /// </summary>
    public static TrainOptions For(SgdReader file, string? label, bool multiLabel, TrainOptions options)
    {
        RowTargets held = file.Targets;
        string path = file.Path;
        if (held.IsMultiLabel != multiLabel)
            throw new ArgumentException(held.IsMultiLabel
                ? $"{path}: a .sgd file of {held.Describe()}: train it with --multi-label"
                : $"{path}: a .sgd file of {held.Describe()}, not tag sets; multi-label training reads a file converted with --multi-label --label ...");
        CheckLabel(path, held, label);
        string[]? names = held.Kind == RowTargetKind.Probabilities ? held.Names : null;
        if (options.TargetColumns is string[] given && !given.SequenceEqual(names ?? []))
            throw new ArgumentException(names is null
                ? $"{path}: a .sgd file of {held.Describe()} has no target columns; convert the CSV again with --target-columns {string.Join(',', given)}"
                : $"{path}: the target columns of a .sgd file are fixed when it is converted: they are {string.Join(',', names)}, " +
                  $"not {string.Join(',', given)} (leave out --target-columns, or convert the CSV again with --target-columns {string.Join(',', given)})");
        if (options.WeightColumn is string weights && weights != held.WeightColumn)
            throw new ArgumentException(held.WeightColumn is null
                ? $"{path}: the .sgd file has no weights; convert the CSV again with --weight-column {weights}"
                : $"{path}: the weight column of a .sgd file is fixed when it is converted: it is '{held.WeightColumn}', not '{weights}' " +
                  $"(leave out --weight-column, or convert the CSV again with --weight-column {weights})");
        return options with { TargetColumns = names, WeightColumn = held.WeightColumn };
    }

    /// <summary>--label against the file: its label or tags column, or its tag columns; a file of probability rows has none.</summary>
    private static void CheckLabel(string path, RowTargets held, string? label)
    {
        if (label is null)
            return;
        switch (held.Kind)
        {
            case RowTargetKind.Probabilities:
                throw new ArgumentException($"{path}: a .sgd file of {held.Describe()} has no label column: leave out --label");
            case RowTargetKind.MultiLabelColumns when label != string.Join(',', held.Names!):
                throw new ArgumentException($"{path}: the tag columns of a .sgd file are fixed when it is converted: they are " +
                                            $"{string.Join(',', held.Names!)}, not {label} (convert the CSV again with --label {label})");
            case RowTargetKind.MultiLabelColumns:
                return;
            default:
                DataSource.CheckLabel(path, held.Label ?? "", label);
                return;
        }
    }
}
