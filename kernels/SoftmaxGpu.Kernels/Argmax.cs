using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>Prediction: the class with the largest logit (equally, the largest probability) of each row.</summary>
public sealed class Argmax
{
    private readonly Action<Index1D, ArrayView<float>, int, ArrayView<int>> kernel;

    public Argmax(Accelerator accelerator)
    {
        kernel = accelerator.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, int, ArrayView<int>>(
            ArgmaxKernel);
    }

    /// <summary>One thread per row scans its K values; ties go to the lowest class index.</summary>
    /// <param name="row">r.</param>
    /// <param name="scores">[B, K] logits or probabilities.</param>
    /// <param name="k">K.</param>
    /// <param name="predicted">[B], written.</param>
    public static void ArgmaxKernel(Index1D row, ArrayView<float> scores, int k, ArrayView<int> predicted)
    {
        long start = (long)(int)row * k;
        int best = 0;
        for (int c = 1; c < k; c++)
        {
            if (scores[start + c] > scores[start + best])
                best = c;
        }
        predicted[row] = best;
    }

    public void Launch(ArrayView<float> scores, int rows, int k, ArrayView<int> predicted) =>
        kernel(rows, scores, k, predicted);
}
