namespace SoftmaxGpu.Kernels;

/// <summary>The sizes of one fused launch, passed to the kernel by value.</summary>
public readonly struct FusedBatch
{
    /// <summary>B: rows of the batch (positions 0..B−1 of the order list, or of X itself).</summary>
    public readonly int Rows;
    public readonly int D;
    public readonly int K;
    /// <summary>R: rows staged in shared memory at once.</summary>
    public readonly int TileRows;
    /// <summary>Floats between staged rows: D rounded up to odd, so rows start in different banks.</summary>
    public readonly int RowStride;
    /// <summary>L: adjacent lanes that share one logit's dot product (a power of two within a warp).</summary>
    public readonly int Lanes;
    /// <summary>Factor of G = (Q − Y)·GradScale: 1/B for the batch mean.</summary>
    public readonly float GradScale;
    /// <summary>Factor of the loss sum written to the partials: 1/N for an epoch mean built from batches.</summary>
    public readonly float LossScale;
    public FusedBatch(int rows, int d, int k, int tileRows, int lanes, float gradScale, float lossScale)
    {
        Lanes = lanes;
        Rows = rows;
        D = d;
        K = k;
        TileRows = tileRows;
        RowStride = d | 1;
        GradScale = gradScale;
        LossScale = lossScale;
    }

    /// <summary>P = K·D + K + 2: one group's partial [dW | db | loss | correct].</summary>
    public int PartialLength => K * D + K + 2;
}
