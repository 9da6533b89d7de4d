using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>Row-wise stable softmax: Q[r, :] = exp(Z[r, :] − logsumexp(Z[r, :])).</summary>
public sealed class Softmax
{
    private readonly Action<KernelConfig, ArrayView<float>, int, int, ArrayView<float>, ArrayView<float>> kernel;
    private readonly LaunchShape shape;

    public Softmax(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        kernel = accelerator.LoadStreamKernel<ArrayView<float>, int, int, ArrayView<float>, ArrayView<float>>(
            SoftmaxKernel);
    }

    /// <summary>
    /// One group per row (groups stride over the rows). The threads stride over the K logits: a shared-memory max reduction gives
    /// m = max z, a sum reduction gives s = Σ exp(z − m), so logsumexp = m + log s never overflows
    /// (exp of a non-positive number), even for logits of 1e30.
    /// </summary>
    /// <param name="z">Z: [B, K] logits.</param>
    /// <param name="rows">B.</param>
    /// <param name="k">K, classes per row.</param>
    /// <param name="q">Q: [B, K] probabilities, written.</param>
    /// <param name="logSumExp">lse: [B], logsumexp of each row, written (the cross-entropy reuses it).</param>
    public static void SoftmaxKernel(ArrayView<float> z, int rows, int k, ArrayView<float> q, ArrayView<float> logSumExp)
    {
        int tid = Group.IdxX;
        int threads = Group.DimX;
        ArrayView<float> scratch = SharedMemory.GetDynamic<float>(); // [threads]
        for (int r = Grid.IdxX; r < rows; r += Grid.DimX) // whole groups stride over rows: barriers stay uniform
        {
            long row = (long)r * k;

            float localMax = float.NegativeInfinity;
            for (int c = tid; c < k; c += threads)
                localMax = MathF.Max(localMax, z[row + c]);
            float max = GroupReduce.Max(scratch, localMax);

            float localSum = 0f;
            for (int c = tid; c < k; c += threads)
                localSum += MathF.Exp(z[row + c] - max);
            float lse = max + MathF.Log(GroupReduce.Sum(scratch, localSum));

            for (int c = tid; c < k; c += threads)
                q[row + c] = MathF.Exp(z[row + c] - lse);
            if (tid == 0)
                logSumExp[r] = lse;
        }
    }

    /// <summary>Softmax of <paramref name="rows"/> rows of Z: [rows, K] into Q and lse.</summary>
    public void Launch(ArrayView<float> z, int rows, int k, ArrayView<float> q, ArrayView<float> logSumExp)
    {
        int threads = shape.RowGroup(k);
        kernel(shape.GridStride((long)rows * threads, threads, SharedMemoryConfig.RequestDynamic<float>(threads)),
            z, rows, k, q, logSumExp);
    }
}
