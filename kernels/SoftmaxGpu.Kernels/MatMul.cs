using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// Where element (row, col) of a matrix sits in its flat view: row * Row + col * Col. Transposes are
/// strides, so one product kernel serves Z = X·Wᵀ (W read as [D, K]) and dW = Gᵀ·X (G read as [K, B]).
/// </summary>
public readonly struct Strides
{
    public readonly int Row;
    public readonly int Col;

    public Strides(int row, int col)
    {
        Row = row;
        Col = col;
    }

    /// <summary>A row-major matrix with <paramref name="cols"/> columns.</summary>
    public static Strides RowMajor(int cols) => new(cols, 1);

    /// <summary>The transpose of a row-major matrix with <paramref name="cols"/> columns.</summary>
    public static Strides Transposed(int cols) => new(1, cols);

    public long Offset(int row, int col) => (long)row * Row + (long)col * Col;
}

/// <summary>C[M, N] = A[M, P] · B[P, N] (+ bias[N]), a tiled shared-memory matrix product.</summary>
public sealed class MatMul
{
    private readonly Action<KernelConfig, ArrayView<float>, Strides, ArrayView<float>, Strides,
        ArrayView<float>, int, int, int, ArrayView<float>> kernel;
    private readonly Action<KernelConfig, ArrayView<float>, Strides, ArrayView<float>, Strides,
        ArrayView<float>, int, int, int, ArrayView<float>> directKernel;
    private readonly LaunchShape shape;

    public MatMul(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        kernel = accelerator.LoadStreamKernel<ArrayView<float>, Strides, ArrayView<float>, Strides,
            ArrayView<float>, int, int, int, ArrayView<float>>(MatMulKernel);
        directKernel = accelerator.LoadStreamKernel<ArrayView<float>, Strides, ArrayView<float>, Strides,
            ArrayView<float>, int, int, int, ArrayView<float>>(MatMulDirectKernel);
    }

    /// <summary>
    /// One T×T group computes one T×T block of C. For each step along P it stages a T×T tile of A and
    /// of B in shared memory (one element per thread), waits at a barrier, and accumulates T products.
    /// Out-of-range tile entries are staged as zero, so M, N, P need not be multiples of T.
    /// </summary>
    /// <param name="a">A, read through <paramref name="aStrides"/>.</param>
    /// <param name="aStrides">Layout of A: element (i, p).</param>
    /// <param name="b">B, read through <paramref name="bStrides"/>.</param>
    /// <param name="bStrides">Layout of B: element (p, j).</param>
    /// <param name="bias">bias[N] added to every row of C; empty for none.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="p">Inner dimension.</param>
    /// <param name="c">C: [M, N] row-major, overwritten.</param>
    public static void MatMulKernel(ArrayView<float> a, Strides aStrides, ArrayView<float> b,
        Strides bStrides, ArrayView<float> bias, int m, int n, int p, ArrayView<float> c)
    {
        int t = Group.DimX;
        int tx = Group.IdxX;
        int ty = Group.IdxY;
        // Row blocks run along the grid's X (up to 2^31 - 1 groups; Y stops at 65535 on CUDA).
        int i = Grid.IdxX * t + ty; // row of C this thread owns
        int j = Grid.IdxY * t + tx; // column of C this thread owns

        // Shared: tileA [T, T] then tileB [T, T].
        ArrayView<float> shared = SharedMemory.GetDynamic<float>();
        ArrayView<float> tileA = shared.SubView(0, t * t);
        ArrayView<float> tileB = shared.SubView(t * t, t * t);

        float acc = 0f;
        for (int start = 0; start < p; start += t)
        {
            int pa = start + tx; // column of A staged by this thread
            int pb = start + ty; // row of B staged by this thread
            tileA[ty * t + tx] = i < m && pa < p ? a[aStrides.Offset(i, pa)] : 0f;
            tileB[ty * t + tx] = pb < p && j < n ? b[bStrides.Offset(pb, j)] : 0f;
            Group.Barrier();
            for (int q = 0; q < t; q++)
                acc += tileA[ty * t + q] * tileB[q * t + tx];
            Group.Barrier();
        }

        if (i < m && j < n)
            c[(long)i * n + j] = bias.Length > 0 ? acc + bias[j] : acc;
    }

    /// <summary>
    /// The same product with one thread per element of C (grid-stride) and no shared memory: the form a
    /// 1×1 tile takes, used where groups have a single thread (ILGPU's CPU accelerator), as it waits at no barrier.
    /// </summary>
    public static void MatMulDirectKernel(ArrayView<float> a, Strides aStrides, ArrayView<float> b,
        Strides bStrides, ArrayView<float> bias, int m, int n, int p, ArrayView<float> c)
    {
        long stride = (long)Grid.DimX * Group.DimX;
        long count = (long)m * n;
        for (long index = Grid.GlobalIndex.X; index < count; index += stride)
        {
            int i = (int)(index / n);
            int j = (int)(index - (long)i * n);
            float acc = bias.Length > 0 ? bias[j] : 0f;
            for (int q = 0; q < p; q++)
                acc += a[aStrides.Offset(i, q)] * b[bStrides.Offset(q, j)];
            c[index] = acc;
        }
    }

    /// <summary>Launches C = A·B (+ bias). Pass an empty view as <paramref name="bias"/> for none.</summary>
    public void Launch(ArrayView<float> a, Strides aStrides, ArrayView<float> b, Strides bStrides,
        ArrayView<float> bias, int m, int n, int p, ArrayView<float> c)
    {
        int tile = shape.Tile;
        if (tile == 1)
        {
            directKernel(shape.GridStride((long)m * n, shape.ElementGroup), a, aStrides, b, bStrides, bias, m, n, p, c);
            return;
        }
        var groups = new Index2D((m + tile - 1) / tile, (n + tile - 1) / tile);
        var config = new KernelConfig(groups, new Index2D(tile, tile),
            SharedMemoryConfig.RequestDynamic<float>(2 * tile * tile));
        kernel(config, a, aStrides, b, bStrides, bias, m, n, p, c);
    }
}
