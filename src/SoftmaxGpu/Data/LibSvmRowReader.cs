using System.Globalization;

namespace SoftmaxGpu.Data;

/// <summary>
/// A LIBSVM/svmlight file, one dense row at a time. Each line is <c>label index:value index:value ...</c>: the
/// label is any token without ':' or ',' (text or a number, kept as text as a CSV label is; multi-label, a
/// comma-separated tag list, or none where the line starts with an entry: <see cref="LibSvmOptions.MultiLabel"/>), indices are integers from
/// <see cref="LibSvmOptions.FirstIndex"/> up, strictly increasing within the line, values finite numbers; an
/// index left out is a zero. '#' starts a comment to the end of the line; blank and comment-only lines are
/// skipped; a svmlight <c>qid:N</c> right after the label is checked (an integer) and skipped. Tokens are
/// separated by spaces or tabs. Any problem stops the read with the file, line and (1-based) column.
/// D is given (<see cref="LibSvmOptions.Features"/>) or, if not, found in a first pass over the file: the
/// largest index. <see cref="LibSvmTableReader"/> and <see cref="SgdConverter"/> both read through it.
/// </summary>
/// <remarks>
/// Lines are read as UTF-8 bytes in large buffers and parsed there (<see cref="ParseFast"/>: ASCII tokens, integer
/// indices, plain decimals of <see cref="FloatText"/>'s fast path); any line that path does not take whole — an
/// error, a qid, a non-ASCII byte, an unusual number — is decoded and parsed again by the text path
/// (<see cref="ParseRow"/>), which gives every result and every message. A file starting with a UTF-16 or UTF-32
/// byte order mark is read as text throughout (StreamReader), as it always was.
/// </remarks>
public sealed class LibSvmRowReader : IRowReader, IDisposable
{
    private readonly StreamReader? text;  // a UTF-16/32 file, line by line; null: bytes are read from `file`
    private readonly FileStream? file;
    private byte[] buffer = new byte[1 << 20];
    private int bufferStart, bufferEnd;   // unread bytes: buffer[bufferStart..bufferEnd)
    private bool endOfFile;
    private readonly LibSvmOptions options;
    private readonly bool labelOptional;
    private readonly List<int> columns = []; // the current row's nonzero columns, 0-based, increasing
    private readonly List<float> values = [];
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> labels =
        new Dictionary<string, string>(StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
    private string[]? featureNames;
    private long line;

    /// <param name="labelOptional">Predict-time data: a line may start with its first index:value, without a label
    /// (its label is then "").</param>
    public LibSvmRowReader(string path, LibSvmOptions options, bool labelOptional = false)
        : this(path, options, labelOptional, options.Features ?? LargestColumn(path, options, labelOptional) + 1)
    {
    }

    private LibSvmRowReader(string path, LibSvmOptions options, bool labelOptional, int dim)
    {
        if (!File.Exists(path))
            throw new DataFormatException($"{path}: file not found");
        if (dim < 1)
            throw new ArgumentException($"--features must be >= 1, got {dim}");
        Path = path;
        this.options = options;
        this.labelOptional = labelOptional;
        Dim = dim;
        file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        Fill();
        ReadOnlySpan<byte> head = buffer.AsSpan(0, bufferEnd);
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            bufferStart = 3; // the UTF-8 byte order mark, skipped as StreamReader skips it
        else if (head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) || head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) ||
                 head.StartsWith((ReadOnlySpan<byte>)[0, 0, 0xFE, 0xFF]))
        {
            file.Dispose();
            file = null;
            text = new StreamReader(path, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true,
                new FileStreamOptions { BufferSize = 1 << 16 });
        }
    }

    public string Path { get; }
    /// <summary>D: features per dense row.</summary>
    public int Dim { get; }
    /// <summary>The indices as the file writes them: "1".."D", or "0".."D−1" for a 0-based file.</summary>
    public string[] FeatureNames => featureNames ??= options.FeatureNames(Dim);
    public static string LabelName => "label";
    /// <summary>The label name of multi-label rows (<see cref="LibSvmOptions.MultiLabel"/>): a sparse .sgd file so named holds tag sets.</summary>
    public const string TagsName = "tags";

    /// <summary>The label name rows read with <paramref name="options"/> get: <see cref="LabelName"/>, or <see cref="TagsName"/> for tag lists.</summary>
    public static string LabelNameFor(LibSvmOptions options) => options.MultiLabel ? TagsName : LabelName;
    /// <summary>Data rows read so far.</summary>
    public long RowsRead { get; private set; }

    /// <summary>
    /// Reads the next row: its D features, zero where the line has no index, into <paramref name="features"/>,
    /// and its label. False at the end of the file.
    /// </summary>
    public bool Next(Span<float> features, out string label)
    {
        if (!NextEntries(out label))
            return false;
        features[..Dim].Clear();
        for (int e = 0; e < columns.Count; e++)
            features[columns[e]] = values[e];
        return true;
    }

    /// <summary>
    /// A reader in one pass, for rows kept sparse: D is <see cref="LibSvmOptions.Features"/> where given; otherwise
    /// any index is accepted and the caller takes D from the largest (no first pass over the file).
    /// </summary>
    public static LibSvmRowReader OnePass(string path, LibSvmOptions options, bool labelOptional = false) =>
        new(path, options, labelOptional, options.Features ?? int.MaxValue);

    /// <summary>The next row's label and its non-zeros (0-based increasing columns and their values, valid until the next call); false at the end.</summary>
    public bool NextSparse(out string label, out ReadOnlySpan<int> nonZeroColumns, out ReadOnlySpan<float> nonZeroValues)
    {
        bool more = NextEntries(out label);
        nonZeroColumns = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(columns);
        nonZeroValues = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(values);
        return more;
    }

    /// <summary>The error for a file without a data row.</summary>
    public DataFormatException NoRows() =>
        new($"{Path}: no data rows (the file is empty, or holds only blank and comment lines); expected 'label index:value ...' lines");

    /// <summary>The first pass when D is not given: every row checked, the largest column returned (−1: none).</summary>
    private static int LargestColumn(string path, LibSvmOptions options, bool labelOptional)
    {
        using var scan = new LibSvmRowReader(path, options, labelOptional, int.MaxValue);
        int largest = -1;
        while (scan.NextEntries(out _))
            if (scan.columns.Count > 0)
                largest = Math.Max(largest, scan.columns[^1]);
        if (scan.RowsRead == 0)
            throw scan.NoRows();
        if (largest < 0)
            throw new DataFormatException($"{path}: no line has an index:value entry, so the number of features is unknown; give --features N");
        return largest;
    }

    /// <summary>The next data line's label and entries (into columns, values); false at the end of the file.</summary>
    private bool NextEntries(out string label)
    {
        if (text is not null)
        {
            while (text.ReadLine() is string whole)
            {
                line++;
                if (ParseLine(whole, out label))
                {
                    RowsRead++;
                    return true;
                }
            }
        }
        else
        {
            while (NextLine(out ReadOnlySpan<byte> bytes))
            {
                line++;
                bool parsed = ParseFast(bytes, out label, out bool blank);
                if (parsed && blank)
                    continue;
                if (parsed || ParseLine(System.Text.Encoding.UTF8.GetString(bytes), out label))
                {
                    RowsRead++;
                    return true;
                }
            }
        }
        label = "";
        return false;
    }

    /// <summary>One line as text: false for a blank or comment-only line; else its label (entries into columns, values).</summary>
    private bool ParseLine(string whole, out string label)
    {
        ReadOnlySpan<char> s = whole;
        int comment = s.IndexOf('#');
        if (comment >= 0)
            s = s[..comment];
        int at = SkipBlanks(s, 0);
        label = "";
        if (at == s.Length)
            return false; // blank or comment-only
        label = ParseRow(s, at);
        return true;
    }

    /// <summary>
    /// The next line's bytes, without its terminator (\n, \r\n or a lone \r, as StreamReader.ReadLine ends lines); false
    /// at the end of the file. Valid until the next call.
    /// </summary>
    private bool NextLine(out ReadOnlySpan<byte> bytes)
    {
        while (true)
        {
            ReadOnlySpan<byte> unread = buffer.AsSpan(bufferStart, bufferEnd - bufferStart);
            int end = unread.IndexOfAny((byte)'\n', (byte)'\r');
            if (end >= 0 && (unread[end] == '\n' || end + 1 < unread.Length || endOfFile))
            {
                bytes = unread[..end];
                bool crlf = unread[end] == '\r' && end + 1 < unread.Length && unread[end + 1] == '\n';
                bufferStart += end + (crlf ? 2 : 1);
                return true;
            }
            if (endOfFile)
            {
                bytes = unread;
                bufferStart = bufferEnd;
                return unread.Length > 0;
            }
            Fill(); // a line (or a \r that may be followed by \n) continues past the buffer
        }
    }

    /// <summary>Moves the unread bytes to the front (growing the buffer for a line longer than it) and reads more.</summary>
    private void Fill()
    {
        int unread = bufferEnd - bufferStart;
        if (unread == buffer.Length)
            Array.Resize(ref buffer, (int)Math.Min(Array.MaxLength, 2L * buffer.Length));
        else
            buffer.AsSpan(bufferStart, unread).CopyTo(buffer);
        (bufferStart, bufferEnd) = (0, unread);
        int got = file!.Read(buffer, bufferEnd, buffer.Length - bufferEnd);
        bufferEnd += got;
        endOfFile = got == 0;
    }

    /// <summary>
    /// One line parsed from its bytes where it is plain: ASCII, a label, then index:value entries with integer indices in
    /// order and within D and values on <see cref="FloatText"/>'s fast path. False where anything else appears (the text
    /// path then parses the line, and gives its message); <paramref name="blank"/> for a blank or comment-only line.
    /// </summary>
    private bool ParseFast(ReadOnlySpan<byte> s, out string label, out bool blank)
    {
        label = "";
        blank = false;
        int comment = s.IndexOf((byte)'#');
        if (comment >= 0)
            s = s[..comment];
        int at = SkipBlanks(s, 0);
        if (at == s.Length)
            return blank = true;
        int end = TokenEnd(s, at);
        ReadOnlySpan<byte> first = s[at..end];
        if (first.Length > 256 || first.Contains((byte)':') || !System.Text.Ascii.IsValid(s))
            return false;
        Span<char> chars = stackalloc char[first.Length];
        for (int i = 0; i < first.Length; i++)
            chars[i] = (char)first[i];
        if (Label(chars, out label, out _) is not null)
            return false;
        columns.Clear();
        values.Clear();
        int firstIndex = options.FirstIndex, previous = -1;
        for (at = SkipBlanks(s, end); at < s.Length; at = SkipBlanks(s, end))
        {
            end = TokenEnd(s, at);
            ReadOnlySpan<byte> token = s[at..end];
            int colon = token.IndexOf((byte)':');
            if (colon is < 1 or > 10)
                return false;
            long index = 0;
            foreach (byte b in token[..colon])
            {
                if ((uint)(b - '0') > 9)
                    return false;
                index = index * 10 + (b - '0');
            }
            long column = index - firstIndex;
            if (index > int.MaxValue || column < 0 || column <= previous || column >= Dim ||
                !FloatText.TryParseFast(token[(colon + 1)..], out float value))
                return false;
            columns.Add(previous = (int)column);
            values.Add(value);
        }
        return true;
    }

    // One data line from its first token at `at`: the label returned, the entries into columns and values.
    private string ParseRow(ReadOnlySpan<char> s, int at)
    {
        columns.Clear();
        values.Clear();
        ReadOnlySpan<char> first = s[at..TokenEnd(s, at)];
        string label = "";
        if (first.Contains(':'))
        {
            if (!labelOptional && !options.MultiLabel) // a multi-label line without a tag list has no tags
                throw Error(at, $"the label is missing: the line starts with '{first}'; each line is 'label index:value ...'");
        }
        else
        {
            if (Label(first, out label, out int offset) is string problem)
                throw Error(at + offset, problem);
            at += first.Length;
        }
        for (at = SkipBlanks(s, at); at < s.Length; at = SkipBlanks(s, at))
        {
            int end = TokenEnd(s, at);
            ReadOnlySpan<char> token = s[at..end];
            if (token.StartsWith("qid:", StringComparison.Ordinal) && columns.Count == 0)
                CheckQid(token, at);
            else
                Entry(token, at);
            at = end;
        }
        return label;
    }

    /// <summary>
    /// The first token as the row's label text: a class label, or under <see cref="LibSvmOptions.MultiLabel"/> a tag list
    /// made the tags joined by '|' (<see cref="TagTable.FromList"/>). Returns null, or what is wrong and where in the token.
    /// </summary>
    private string? Label(ReadOnlySpan<char> token, out string label, out int offset)
    {
        label = "";
        if (!options.MultiLabel)
        {
            offset = token.IndexOf(TagTable.ListSeparator);
            if (offset >= 0)
                return $"the label '{token}' holds ',' as a multi-label tag list does: give --multi-label (train, convert) to " +
                       "read each line's comma-separated tags; a class label has no ','";
            offset = 0;
            label = Pool(token);
            return null;
        }
        Span<char> text = token.Length <= 256 ? stackalloc char[token.Length] : new char[token.Length];
        string? problem = TagTable.FromList(token, text, out offset);
        if (problem is null)
            label = Pool(text);
        return problem;
    }

    // One index:value token at column `at`, appended to the row.
    private void Entry(ReadOnlySpan<char> token, int at)
    {
        int colon = token.IndexOf(':');
        if (colon < 0)
            throw Error(at, $"'{token}' is not index:value");
        if (colon == 0)
            throw Error(at, $"'{token}' has no index before ':'");
        int column = Column(token[..colon], at);
        ReadOnlySpan<char> valueText = token[(colon + 1)..];
        int valueAt = at + colon + 1;
        if (valueText.Length == 0)
            throw Error(valueAt, $"'{token}' has no value after ':'");
        if (valueText.IndexOf(':') is int extra and >= 0)
            throw Error(valueAt + extra, $"'{token}' has more than one ':'");
        if (!float.TryParse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
            throw Error(valueAt, $"the value '{valueText}' of index {token[..colon]} is not a number");
        if (!float.IsFinite(value))
            throw Error(valueAt, $"the value '{valueText}' of index {token[..colon]} is not a finite number (NaN, infinity or beyond float range)");
        columns.Add(column);
        values.Add(value);
    }

    // The 0-based column of an index written at `at`: an integer ≥ the first index, above the line's previous one, within D.
    private int Column(ReadOnlySpan<char> index, int at)
    {
        int first = options.FirstIndex;
        if (index[0] == '-' && index.Length > 1 && IsDigits(index[1..]))
            throw Error(at, $"index {index} is negative; indices start at {first}");
        if (!IsDigits(index))
            throw Error(at, $"index '{index}' is not an integer");
        if (!long.TryParse(index, NumberStyles.None, CultureInfo.InvariantCulture, out long i) || i > int.MaxValue)
            throw Error(at, $"index {index} is too large (at most {int.MaxValue})");
        if (i < first)
            throw Error(at, "index 0, but LIBSVM indices start at 1 (give --zero-based for a file whose indices start at 0)");
        long column = i - first;
        if (columns.Count > 0 && column <= columns[^1])
            throw Error(at, column == columns[^1]
                ? $"index {i} appears twice in the line"
                : $"index {i} comes after index {columns[^1] + first}; indices must increase within a line");
        if (column >= Dim)
            throw Error(at, $"index {i} is beyond the last feature, {Dim - 1 + first} ({Dim} features, from {options.FeaturesFrom})");
        return (int)column;
    }

    // svmlight's query id: an integer, of no use to a classifier, so only checked.
    private void CheckQid(ReadOnlySpan<char> token, int at)
    {
        if (!long.TryParse(token["qid:".Length..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
            throw Error(at + "qid:".Length, $"'{token}': a qid must be an integer");
    }

    private string Pool(ReadOnlySpan<char> label)
    {
        if (labels.TryGetValue(label, out string? pooled))
            return pooled;
        string made = label.ToString();
        labels.Dictionary.Add(made, made);
        return made;
    }

    private DataFormatException Error(int at, string problem) =>
        DataFormatException.At(Path, line, (at + 1).ToString(CultureInfo.InvariantCulture), problem);

    private static bool IsDigits(ReadOnlySpan<char> s) => s.Length > 0 && !s.ContainsAnyExceptInRange('0', '9');

    private static bool IsBlank(char c) => c is ' ' or '\t';

    private static int SkipBlanks(ReadOnlySpan<byte> s, int at)
    {
        while (at < s.Length && IsBlank((char)s[at]))
            at++;
        return at;
    }

    private static int TokenEnd(ReadOnlySpan<byte> s, int at)
    {
        while (at < s.Length && !IsBlank((char)s[at]))
            at++;
        return at;
    }

    private static int SkipBlanks(ReadOnlySpan<char> s, int at)
    {
        while (at < s.Length && IsBlank(s[at]))
            at++;
        return at;
    }

    private static int TokenEnd(ReadOnlySpan<char> s, int at)
    {
        while (at < s.Length && !IsBlank(s[at]))
            at++;
        return at;
    }

    public void Dispose()
    {
        text?.Dispose();
        file?.Dispose();
    }
}
