using System.Globalization;

namespace SoftmaxGpu.Data;

/// <summary>
/// Parses number text to float32 exactly as <c>float.TryParse(text, NumberStyles.Float, InvariantCulture)</c> does,
/// with a fast path for the common case: a plain decimal — optional sign, digits, optional fraction, optional
/// exponent — whose significant digits form an integer m and whose decimal exponent is e. Two tiers (Clinger's):
/// <list type="bullet">
/// <item>m ≤ 2²⁴ and |e| ≤ 10: m and 10^|e| are exact in float32, so m · 10^e or m / 10^−e is one correctly rounded
/// float32 operation: the float the full parser returns.</item>
/// <item>m ≤ 2⁵³ and |e| ≤ 22 (9-digit TF-IDF values, "0.145202741"): the same in float64, correctly rounded to d, then
/// d rounded to float32. Rounding twice gives the correctly rounded float unless d is exactly halfway between two floats
/// (a float midpoint strictly between the exact value and d would be a nearer double than d), so that case, and d
/// outside the normal float range, goes to the full parser.</item>
/// </list>
/// Anything else (more digits, larger exponents, NaN, Infinity, whitespace, …) goes to <c>float.TryParse</c>.
/// </summary>
public static class FloatText
{
    private const int MaxExactMantissa = 1 << 24;
    private const long MaxExactDoubleMantissa = 1L << 53;
    private const double MinNormalFloat = 1.1754943508222875e-38; // 2⁻¹²⁶, the smallest normal float
    private static readonly float[] PowersOfTen = [1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f];
    private static readonly double[] DoublePowersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
        1e21, 1e22,
    ];

    public static bool TryParse(ReadOnlySpan<byte> text, out float value) =>
        TryParseFast(text, out value) ||
        float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    /// <summary>The fast path alone: false where it does not apply (the text may still be a number).</summary>
    internal static bool TryParseFast(ReadOnlySpan<byte> text, out float value)
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
            if ((mantissa = mantissa * 10 + (text[i] - '0')) > MaxExactDoubleMantissa)
                return false;
        if (i < text.Length && text[i] == '.')
        {
            for (i++; i < text.Length && IsDigit(text[i]); i++, digits++, exponent--)
                if ((mantissa = mantissa * 10 + (text[i] - '0')) > MaxExactDoubleMantissa)
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
        if (i != text.Length)
            return false;

        if (!TryScale(mantissa, exponent, out value))
            return false;
        if (negative)
            value = -value;
        return true;
    }

    /// <summary>
    /// mantissa·10^exponent rounded once to a float, where one float or double operation gives it exactly rounded;
    /// false where it may not (the full parser decides).
    /// </summary>
    private static bool TryScale(long mantissa, int exponent, out float value)
    {
        value = 0;
        if (mantissa <= MaxExactMantissa && exponent is >= -10 and <= 10)
        {
            float m = mantissa; // exact: mantissa ≤ 2²⁴
            value = exponent >= 0 ? m * PowersOfTen[exponent] : m / PowersOfTen[-exponent];
            return true;
        }
        if (exponent is < -22 or > 22)
            return false;
        double x = mantissa; // exact: mantissa ≤ 2⁵³
        double d = exponent >= 0 ? x * DoublePowersOfTen[exponent] : x / DoublePowersOfTen[-exponent];
        const long belowFloat = (1L << 29) - 1; // the 29 low significand bits a float does not keep
        if (d < MinNormalFloat || d > float.MaxValue || (BitConverter.DoubleToInt64Bits(d) & belowFloat) == 1L << 28)
            return false; // subnormal, overflowing, or exactly halfway between two floats: the full parser decides
        value = (float)d;
        return true;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;
}
