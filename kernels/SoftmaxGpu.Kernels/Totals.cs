using ILGPU;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// The running totals of an epoch on the device, added to by one thread at a time (the last step of a
/// reduction): the scaled loss sum as a compensated pair of floats, and the correct count as an integer.
/// A float running sum over thousands of batches loses digits and a float count is exact only to 2²⁴; the pair
/// (hi, lo) keeps the rounding error of every addition in lo (TwoSum), about 48 bits in all, with float
/// arithmetic that every device has.
/// </summary>
public static class Totals
{
    /// <summary>Floats of the loss total: (hi, lo).</summary>
    public const int LossLength = 2;

    /// <summary>(hi, lo) += x: TwoSum of hi and x, the error added into lo, then renormalized.</summary>
    /// <param name="loss">[2]: hi, lo.</param>
    public static void AddLoss(ArrayView<float> loss, float x)
    {
        float hi = loss[0];
        float sum = hi + x;
        float fromX = sum - hi;
        float error = (hi - (sum - fromX)) + (x - fromX);
        float lo = loss[1] + error;
        float renormalized = sum + lo;
        loss[0] = renormalized;
        loss[1] = lo - (renormalized - sum);
    }

    /// <summary>
    /// sum += x with Kahan's compensation: error keeps what the addition lost (sum − error is the better sum). A
    /// thread's loss over thousands of rows stays accurate to a few float ulps instead of drifting with the row
    /// count, which is what L-BFGS's line search compares near the optimum.
    /// </summary>
    public static void Kahan(ref float sum, ref float error, float x)
    {
        float corrected = x - error;
        float next = sum + corrected;
        error = (next - sum) - corrected;
        sum = next;
    }

    /// <summary>(hi, lo) += x from the host (the host engine's totals are host memory): the sum in float64, split back.</summary>
    public static void AddLoss(Span<float> loss, double x)
    {
        double sum = Read(loss) + x;
        loss[0] = (float)sum;
        loss[1] = (float)(sum - loss[0]);
    }

    /// <summary>The compensated sum (hi, lo) as a double.</summary>
    public static double Read(ReadOnlySpan<float> loss) => (double)loss[0] + loss[1];

    /// <summary>
    /// A count summed as floats by a group reduction, back to an integer. Each group counts fewer than 2²⁴ rows,
    /// so its float is exact; the totals then add integers.
    /// </summary>
    public static int Count(float groupCount) => (int)(groupCount + 0.5f);
}
