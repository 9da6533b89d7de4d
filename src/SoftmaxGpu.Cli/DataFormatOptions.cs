using System.CommandLine;
using SoftmaxGpu.Data;

namespace SoftmaxGpu.Cli;

/// <summary>
/// --format, --separator, --zero-based and --features: how train and convert read a text data file (CSV or LIBSVM).
/// predict and evaluate take only --format and --separator (<see cref="FormatOption"/>, <see cref="SeparatorOption"/>):
/// a model trained on LIBSVM data knows its D and where its indices start.
/// </summary>
public sealed class DataFormatOptions
{
    public static readonly string[] Names = ["auto", "csv", "libsvm"];

    public Option<string> Format { get; } = FormatOption();

    public Option<bool> ZeroBased { get; } = new("--zero-based")
    {
        Description = "LIBSVM data: indices start at 0 (default: at 1, as LIBSVM writes them).",
    };

    public Option<int?> Features { get; } = new("--features")
    {
        Description = "LIBSVM data: D, the number of features; an index beyond it is an error (default: the largest index in the file, found in a first pass over it; convert to a sparse .sgd file finds it in its one pass).",
    };

    public Option<string> Separator { get; } = SeparatorOption();

    public IEnumerable<Option> All => [Format, Separator, ZeroBased, Features];

    /// <summary>--separator, for every command that reads CSV.</summary>
    public static Option<string> SeparatorOption() => new("--separator")
    {
        Description = "CSV field separator: ',' (default), ';', 'tab' or another single character. Numbers must use a decimal " +
                      "point whatever the separator: decimal commas (1,5) are not supported.",
        DefaultValueFactory = _ => ",",
    };

    /// <summary>The CSV options --separator gives.</summary>
    public static CsvOptions CsvOf(ParseResult parse, Option<string> separator) => new()
    {
        Separator = CsvOptions.ParseSeparator(parse.GetValue(separator)!),
    };

    /// <summary>
    /// The CSV options of train's data: --separator, and --ignore's comma-separated columns (each named once).
    /// </summary>
    public CsvOptions CsvWithIgnore(ParseResult parse, Option<string?> ignore)
    {
        CsvOptions csv = CsvOf(parse, Separator);
        if (parse.GetValue(ignore) is not string names)
            return csv;
        string[] columns = names.Split(',', StringSplitOptions.TrimEntries);
        if (columns.Any(c => c.Length == 0) || columns.Distinct(StringComparer.Ordinal).Count() != columns.Length)
            throw new ArgumentException($"--ignore '{names}': name each column once, separated by commas");
        return csv with { Ignore = columns }; // checked against the data (a CSV, with these columns) by TrainingSpec.Prepare
    }

    /// <summary>--format alone, for predict and evaluate.</summary>
    public static Option<string> FormatOption()
    {
        var format = new Option<string>("--format")
        {
            Description = $"auto: a file named *{string.Join(", *", LibSvmOptions.Extensions)} is LIBSVM/svmlight " +
                          "('label index:value ...'), any other file CSV; or csv, libsvm. A .sgd file and an MNIST folder are known either way.",
            DefaultValueFactory = _ => "auto",
        };
        return format.AnyCaseOf(Names);
    }

    public static DataFormat FormatOf(ParseResult parse, Option<string> format) =>
        Enum.Parse<DataFormat>(parse.GetValue(format)!, ignoreCase: true);

    /// <summary>
    /// One "warning:" line for each of --separator, --label and --test that was typed but that <paramref name="data"/>
    /// does not read: --separator outside CSV, --label where the labels are not a column (an MNIST folder, LIBSVM), --test
    /// outside an MNIST folder. (Combinations that cannot be meant, as --label with LIBSVM training data, are errors in <see cref="For"/>.)
    /// And one where a CSV file's column names read as numbers, as a data row's values do: a file without a header row.
    /// </summary>
    public static void WarnIgnored(TextWriter error, ParseResult parse, string data, DataFormat format, Option<string> separator,
        Option<string?>? label = null, Option<bool>? test = null)
    {
        DataKind read = DataSource.KindOf(data, format);
        bool folder = read == DataKind.Folder, libsvm = read == DataKind.LibSvm;
        string? kind = read.HasNamedColumns() ? null : read.Describe();
        if (kind is not null && IgnoredOptions.Typed(parse, separator))
            error.WriteLine($"warning: --separator is ignored: {data} is {kind}, not CSV");
        if ((folder || libsvm) && label is not null && IgnoredOptions.Typed(parse, label))
            error.WriteLine($"warning: --label is ignored: {data} is {kind}, whose labels are not a named column");
        if (!folder && test is not null && IgnoredOptions.Typed(parse, test))
            error.WriteLine($"warning: --test is ignored: it picks the t10k files of an MNIST folder, and {data} is not a folder");
        if (read == DataKind.Csv && HeaderLooksLikeData(data, CsvOf(parse, separator)) is string[] header)
            error.WriteLine($"warning: {data}: the column names read as numbers ({string.Join(", ", header.Take(4))}{(header.Length > 4 ? ", ..." : "")}); " +
                            "the first line of a CSV file is its header: if it is data, add a header row of column names");
    }

    /// <summary>
    /// The header of a CSV file whose names, but for one (a label column may hold text), read as numbers and not all as
    /// integers (columns named 0, 1, 2, … are a header; 5.1, 3.5, 1.4 a data row); else null. Only a file with a size is
    /// read for it: a FIFO or a pipe (<c>--data /dev/stdin</c>) can be read once, by the command itself; and a missing file
    /// is not reported here (the command's read says so).
    /// </summary>
    private static string[]? HeaderLooksLikeData(string data, CsvOptions csv)
    {
        if (!File.Exists(data) || new FileInfo(data).Length == 0)
            return null;
        string[] header;
        try
        {
            header = CsvRowReader.Header(data, csv);
        }
        catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
        string[] numbers = [.. header.Where(CsvRowReader.LooksLikeData)];
        bool integers = numbers.All(name => long.TryParse(name, System.Globalization.NumberStyles.AllowLeadingSign,
            System.Globalization.CultureInfo.InvariantCulture, out _));
        return header.Length >= 2 && numbers.Length >= header.Length - 1 && !integers ? header : null;
    }

    /// <summary>The format and the LIBSVM options for <paramref name="data"/>, checked against it and --label.</summary>
    public (DataFormat Format, LibSvmOptions LibSvm) For(ParseResult parse, string data, string? label)
    {
        DataFormat format = FormatOf(parse, Format);
        bool zeroBased = parse.GetValue(ZeroBased);
        int? features = parse.GetValue(Features);
        if (features is < 1)
            throw new ArgumentException($"--features must be >= 1, got {features}");
        DataKind kind = DataSource.KindOf(data, format);
        bool libsvm = kind == DataKind.LibSvm;
        if (!libsvm && (zeroBased || features is not null))
            throw new ArgumentException(kind == DataKind.Csv
                ? $"--zero-based and --features apply to LIBSVM data, and {data} is not read as LIBSVM (it is not named " +
                  $"*{string.Join(", *", LibSvmOptions.Extensions)}; give --format libsvm if it is LIBSVM)"
                : $"--zero-based and --features apply to LIBSVM text, and {data} is {kind.Describe()}, whose features " +
                  (kind.IsSgd() ? "were fixed when it was converted" : "are its images' pixels"));
        if (libsvm && parse.GetResult(Separator) is { Implicit: false })
            throw new ArgumentException($"--separator applies to CSV files; {data} is read as LIBSVM ('label index:value ...')");
        if (libsvm && label is not null)
            throw new ArgumentException(
                $"--label names a CSV column; the label of a LIBSVM file ({data}) is the first token of each line");
        return (format, new LibSvmOptions { ZeroBased = zeroBased, Features = features, FeaturesFrom = $"--features {features}" });
    }
}
