using System.Globalization;

namespace SoftmaxGpu.Data;

/// <summary>
/// Parses a CSV field to float32 exactly as <c>float.TryParse(field, NumberStyles.Float, InvariantCulture)</c>
/// does, with a fast path for the common case. Fast path (Clinger's): a plain decimal — optional sign, digits,
/// optional fraction, optional exponent — whose significant digits form an integer m ≤ 2²⁴ and whose decimal
/// exponent e has |e| ≤ 10. Then m and 10^|e| are both exact in float32, so m · 10^e or m / 10^−e is one
/// correctly rounded IEEE operation: the same float the full parser returns. Anything else (more digits,
/// larger exponents, NaN, Infinity, whitespace, …) goes to <c>float.TryParse</c>.
/// </summary>
public static class FloatText
{
    private const int MaxExactMantissa = 1 << 24;
    private static readonly float[] PowersOfTen = [1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f];

    public static bool TryParse(ReadOnlySpan<byte> text, out float value) =>
        TryParseFast(text, out value) ||
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    private static bool TryParseFast(ReadOnlySpan<byte> text, out float value)
    {
        value = 0;
        int i = 0;
        bool negative = false;
        if (i < text.Length && (text[i] == '-' || text[i] == '+'))
            negative = text[i++] == '-';

        long mantissa = 0;
        int exponent = 0;
        int digits = 0;
        for (; i < text.Length && IsDigit(text[i]); i++, digits++)
            if ((mantissa = mantissa * 10 + (text[i] - '0')) > MaxExactMantissa)
                return false;
        if (i < text.Length && text[i] == '.')
        {
            for (i++; i < text.Length && IsDigit(text[i]); i++, digits++, exponent--)
                if ((mantissa = mantissa * 10 + (text[i] - '0')) > MaxExactMantissa)
                    return false;
        }
        if (digits == 0)
            return false;
        if (i < text.Length && (text[i] == 'e' || text[i] == 'E'))
        {
            i++;
            bool negativeExponent = false;
            if (i < text.Length && (text[i] == '-' || text[i] == '+'))
                negativeExponent = text[i++] == '-';
            int written = 0, start = i;
            for (; i < text.Length && IsDigit(text[i]); i++)
                if ((written = written * 10 + (text[i] - '0')) > 1000)
                    return false;
            if (i == start)
                return false;
            exponent += negativeExponent ? -written : written;
        }
        if (i != text.Length || exponent < -10 || exponent > 10)
            return false;

        float m = mantissa; // exact: mantissa ≤ 2²⁴
        value = exponent >= 0 ? m * PowersOfTen[exponent] : m / PowersOfTen[-exponent];
        if (negative)
            value = -value;
        return true;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;
}
