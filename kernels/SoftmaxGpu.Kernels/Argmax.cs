using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>Prediction: the class with the largest logit (equally, the largest probability) of each row.</summary>
public sealed class Argmax
{
    private readonly Action<KernelConfig, ArrayView<float>, int, int, ArrayView<int>> kernel;
    private readonly LaunchShape shape;

    public Argmax(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        kernel = accelerator.LoadStreamKernel<ArrayView<float>, int, int, ArrayView<int>>(ArgmaxKernel);
    }

    /// <summary>One thread per row (grid-stride) scans its K values; ties go to the lowest class index.</summary>
    /// <param name="scores">[B, K] logits or probabilities.</param>
    /// <param name="rows">B.</param>
    /// <param name="k">K.</param>
    /// <param name="predicted">[B], written.</param>
    public static void ArgmaxKernel(ArrayView<float> scores, int rows, int k, ArrayView<int> predicted)
    {
        int stride = Grid.DimX * Group.DimX;
        for (int row = Grid.GlobalIndex.X; row < rows; row += stride)
        {
            long start = (long)row * k;
            int best = 0;
            for (int c = 1; c < k; c++)
            {
                if (scores[start + c] > scores[start + best])
                    best = c;
            }
            predicted[row] = best;
        }
    }

    public void Launch(ArrayView<float> scores, int rows, int k, ArrayView<int> predicted) =>
        kernel(shape.GridStride(rows, shape.ElementGroup), scores, rows, k, predicted);
}
