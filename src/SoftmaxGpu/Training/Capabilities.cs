using SoftmaxGpu.Data;

namespace SoftmaxGpu.Training;

/// <summary>
/// What can be combined, in one table checked by <see cref="TrainingSpec.Prepare"/> before any data is read: each
/// row an unsupported combination of head, data kind and option, with the message that says what to do instead.
/// Everything not listed is supported on every engine (every target kind streams, resident or from disk). What a dense
/// .sgd file holds (target rows, weights) is checked against the options when it is opened (<see cref="SgdTargetOptions"/>).
/// </summary>
public static class Capabilities
{
    /// <summary>One unsupported combination: when it holds of a spec, and what the user is told.</summary>
    private sealed record Rule(Func<TrainingSpec, bool> Holds, Func<TrainingSpec, string> Message);

    private static DataKind Kind(TrainingSpec s) => DataSource.KindOf(s.Data, s.Format);

    private static bool Sgd(TrainingSpec s) => Kind(s).IsSgd();

    /// <summary>A sparse .sgd file (CSR rows from LIBSVM), which keeps only the features and the label.</summary>
    private static bool SparseSgd(TrainingSpec s) => Kind(s) == DataKind.SparseSgd;

    /// <summary>Not a CSV file: a .sgd file, LIBSVM data or an MNIST folder, which carry no named columns besides the features.</summary>
    private static bool NotCsv(TrainingSpec s) => !Kind(s).HasNamedColumns();

    /// <summary>LIBSVM rows: a LIBSVM text file, or a sparse .sgd file.</summary>
    private static bool LibSvmRows(TrainingSpec s) => Kind(s).IsLibSvmRows();

    private static bool ColumnOptions(TrainingSpec s) => s.Options.WeightColumn is not null || s.Options.TargetColumns is not null;

    private static bool Path(TrainingSpec s) => s.IsPath;

    private static readonly Rule[] Rules =
    [
        new(s => s.Options.Patience > 0 && Path(s),
            _ => "--patience stops a mini-batch fit early; choosing among values fits each to its optimum with newton or lbfgs: leave out --patience"),
        new(s => s.Options.Patience > 0 && s.Validation is null && s.ValidationFraction is null,
            _ => "--patience stops when the validation loss stops falling: give validation data, --val FILE or --val-fraction F (e.g. 0.2)"),
        new(s => s.Cs is { Count: > 1 } && s.Folds is null && s.Validation is null && s.ValidationFraction is null,
            s => $"several {s.Options.PathPenalty.Option()} values are chosen among on held-out rows: give --cv K, or --val / --val-fraction"),
        new(s => s.Folds is not null && (s.Validation is not null || s.ValidationFraction is not null),
            _ => "--cv holds out each fold in turn: give --cv or --val/--val-fraction, not both"),
        new(s => Path(s) && s.Start is not null,
            s => $"--init-model continues one fit; choosing {s.Options.PathPenalty.Name()} fits every fold from zeros and warm-starts " +
                 $"each value from the last: leave out --init-model, or give one {s.Options.PathPenalty.Option()}"),
        new(s => Path(s) && s.Options.PathPenalty == PathPenalty.C && s.Options.WeightDecay is not null,
            _ => "a path over C takes its λ from each C: give --C values or --weight-decay values, not both"),
        new(s => Path(s) && Optimizers.Find(s.Options.Optimizer) is { FullBatch: false },
            s => $"choosing {s.Options.PathPenalty.Name()} fits each value to its optimum with newton or lbfgs; leave out --optimizer or give one of them"),
        new(s => s.MultiLabel && s.Options.Optimizer == Optimizers.Newton.Name,
            _ => "--optimizer newton fits the softmax head (one class a row); --multi-label trains with lbfgs or a mini-batch optimizer"),
        new(s => s.MultiLabel && s.Options.LabelSmoothing > 0,
            _ => "--label-smoothing applies to the softmax cross-entropy of one class per row, not to multi-label training"),
        new(s => s.MultiLabel && (s.Options.Weighted || s.Options.TargetColumns is not null),
            _ => "--class-weight, --weight-column and --target-columns apply to one class per row; multi-label training does not take them yet"),
        new(s => s.MultiLabel && NotCsv(s) && Kind(s) != DataKind.Sgd && !LibSvmRows(s),
            s => $"{s.Data}: multi-label data is read from a CSV file (with a tags column or 0/1 tag columns), a .sgd file " +
                 "converted from one, or LIBSVM tag lists (text, or a sparse .sgd file from convert --multi-label)"),
        new(s => s.Options.TargetColumns is not null && s.Label is not null,
            _ => "give --label or --target-columns, not both: with --target-columns the classes are those columns"),
        new(s => SparseSgd(s) && ColumnOptions(s), s => ColumnsNotInSgd(s.Data)),
        new(s => !Sgd(s) && NotCsv(s) && ColumnOptions(s),
            s => $"--weight-column and --target-columns name CSV columns; {s.Data} is not a CSV file"),
        new(s => NotCsv(s) && s.Csv.Ignore.Count > 0,
            s => $"--ignore leaves out CSV columns; {s.Data} is not read as CSV"),
        new(s => Sgd(s) && s.ValidationFraction is not null,
            _ => "--val-fraction needs the data in memory; with a .sgd file give --val (a .sgd or CSV file)"),
        new(s => s.Validation is not null && s.ValidationFraction is not null,
            _ => "give --val or --val-fraction, not both"),
    ];

    /// <summary>Why a sparse .sgd file cannot train with --weight-column or --target-columns.</summary>
    public static string ColumnsNotInSgd(string path) =>
        "--weight-column and --target-columns name CSV columns, and a sparse .sgd file keeps only the features and the " +
        $"label; train from the CSV, or convert it to a dense .sgd file with those options ({path})";

    /// <summary>Throws the first unsupported combination of <paramref name="spec"/> as one <see cref="ArgumentException"/>.</summary>
    public static void Check(TrainingSpec spec)
    {
        foreach (Rule rule in Rules)
            if (rule.Holds(spec))
                throw new ArgumentException(rule.Message(spec));
    }
}
