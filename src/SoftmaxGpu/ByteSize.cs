using System.Globalization;

namespace SoftmaxGpu;

/// <summary>Sizes as users write them: <c>1GiB</c>, <c>512MiB</c>, <c>64KiB</c>, <c>2GB</c>, or plain bytes.</summary>
public static class ByteSize
{
    private static readonly (string Suffix, long Factor)[] Units =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
        ("KB", 1000), ("MB", 1000_000), ("GB", 1000_000_000), ("TB", 1000_000_000_000), ("B", 1),
    ];

    /// <summary>A size for people: bytes, KiB, MiB or GiB with three significant digits.</summary>
    public static string Format(long bytes) => bytes switch
    {
        < 1L << 10 => $"{bytes} B",
        < 1L << 20 => $"{bytes / 1024.0:G3} KiB",
        < 1L << 30 => $"{bytes / (1024.0 * 1024):G3} MiB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):G3} GiB",
    };

    /// <summary>The size in bytes; an unreadable one is an error naming <paramref name="option"/>.</summary>
    public static long Parse(string text, string option)
    {
        string trimmed = text.Trim();
        (string suffix, long factor) = Units.FirstOrDefault(u => trimmed.EndsWith(u.Suffix, StringComparison.OrdinalIgnoreCase), ("", 1));
        string number = trimmed[..^suffix.Length].Trim();
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value > 0) ||
            value * factor > long.MaxValue)
            throw new ArgumentException($"{option} must be a positive size such as 512MiB, 2GiB or 1000000 (bytes), got '{text}'");
        return Math.Max(1, (long)(value * factor));
    }
}
