namespace SoftmaxGpu.Kernels.Sparse;

/// <summary>
/// The running sum of one output of <see cref="CscWeightGradient"/>, given to the kernel as a struct type parameter
/// so each precision is its own compiled kernel: <see cref="DoubleSum"/> where the device has float64,
/// <see cref="FloatSum"/> where it does not (OpenCL devices without cl_khr_fp64, e.g. Intel Arc).
/// </summary>
public interface ISum
{
    /// <summary>Adds a·b.</summary>
    void Add(float a, float b);

    /// <summary>Adds a.</summary>
    void Add(float a);

    /// <summary>scale times the sum, rounded once to float.</summary>
    float Scaled(float scale);
}

/// <summary>
/// Products and sum in float64, rounded to float once at the end: a column as long as the block (a feature every row
/// has) sums without float32's growing error, and products of huge values (1e30 × 1e10) cannot overflow before they
/// cancel. Float64 arithmetic runs at a few percent of float32's on consumer GPUs, but a column sum does one multiply-add
/// per gathered float of G, so it should stay bound by its loads (REVIEW: not yet measured on a GPU).
/// </summary>
public struct DoubleSum : ISum
{
    private double sum;

    public void Add(float a, float b) => sum += (double)a * b;

    public void Add(float a) => sum += a;

    public readonly float Scaled(float scale) => (float)(sum * scale);
}

/// <summary>Products and sum in float32, as the dense product (<see cref="MatMul"/>) sums dW.</summary>
public struct FloatSum : ISum
{
    private float sum;

    public void Add(float a, float b) => sum += a * b;

    public void Add(float a) => sum += a;

    public readonly float Scaled(float scale) => sum * scale;
}
