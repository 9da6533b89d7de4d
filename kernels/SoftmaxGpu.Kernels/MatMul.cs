using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// C[M, N] = A[M, P] · B[P, N] (+ bias[N]), a tiled shared-memory matrix product, register-blocked: each
/// thread of a T×T group computes 4×4 elements of C.
/// </summary>
public sealed class MatMul
{
    /// <summary>Rows (and columns) of C per thread: each thread holds a ThreadBlock × ThreadBlock block.</summary>
    public const int ThreadBlock = 4;

    /// <summary>
    /// Floats of padding after each staged row of a shared slice: a pitch of 4T + 2 (≡ 2 mod 32 banks for
    /// T = 16) keeps the transposing stores of a P-contiguous operand free of bank conflicts.
    /// </summary>
    public const int SlicePad = 2;

    /// <summary>Shared floats of the largest tile, 2·T·(4T + pad) for T = <see cref="LaunchShape.MaxTile"/>: 2112.</summary>
    public const int SharedFloats = 2 * LaunchShape.MaxTile * (ThreadBlock * LaunchShape.MaxTile + SlicePad);

    // The tiled kernel is compiled at its first launch: the CPU accelerator only ever runs the direct one.
    private readonly Lazy<Action<KernelConfig, ArrayView<float>, Strides, ArrayView<float>, Strides,
        ArrayView<float>, int, int, int, int, ArrayView<float>>> kernel;
    private readonly PartialSum sum;
    private readonly Action<KernelConfig, ArrayView<float>, Strides, ArrayView<float>, Strides,
        ArrayView<float>, int, int, int, ArrayView<float>> directKernel;
    private readonly LaunchShape shape;

    /// <param name="sum">The partial-sum kernel, shared with the rest of the kernel set.</param>
    public MatMul(Accelerator accelerator, LaunchShape shape, PartialSum sum)
    {
        this.shape = shape;
        kernel = new(() => shape.Portable
            ? accelerator.LoadStreamKernel<ArrayView<float>, Strides, ArrayView<float>, Strides,
                ArrayView<float>, int, int, int, int, ArrayView<float>>(MatMulKernel<OpenCLVariant>)
            : accelerator.LoadStreamKernel<ArrayView<float>, Strides, ArrayView<float>, Strides,
                ArrayView<float>, int, int, int, int, ArrayView<float>>(MatMulKernel<WarpVariant>));
        this.sum = sum;
        directKernel = accelerator.LoadStreamKernel<ArrayView<float>, Strides, ArrayView<float>, Strides,
            ArrayView<float>, int, int, int, ArrayView<float>>(MatMulDirectKernel);
    }

    /// <summary>
    /// Register-blocked tiled product. A T×T group computes a (4T)×(4T) block of C and each thread a 4×4
    /// block of it, held in 16 registers (<see cref="Block4x4"/>): thread (tx, ty) owns rows
    /// row0 + ty + rT and columns col0 + tx + cT, r, c = 0..3. For each step of T along P the group stages a
    /// (4T)×T slice of A and a T×(4T) slice of B in shared memory (4 elements of each per thread), waits at
    /// a barrier, and accumulates T rank-1 updates of 16 products each, 8 shared reads per 16 FMAs.
    /// Out-of-range entries are staged as zero, so M, N, P need not be multiples of anything.
    /// </summary>
    /// <remarks>
    /// Shared memory, both slices stored P-major with a padded pitch of 4T + <see cref="SlicePad"/> floats:
    /// sliceA[q, x] = A(row0 + x, start + q) and sliceB[q, x] = B(start + q, col0 + x), q in [0, T),
    /// x in [0, 4T); 2·T·(4T + 2) floats in all (2112 for T = 16). In the inner loop a warp of 32 (T = 16:
    /// two rows ty of 16 tx) reads sliceB[q, tx + cT] at 16 consecutive banks and sliceA[q, ty + rT] at two
    /// addresses (a broadcast), so the reads are free of bank conflicts; writes to C are 16 consecutive floats.
    /// </remarks>
    /// <param name="a">A, read through <paramref name="aStrides"/>.</param>
    /// <param name="aStrides">Layout of A: element (i, p).</param>
    /// <param name="b">B, read through <paramref name="bStrides"/>.</param>
    /// <param name="bStrides">Layout of B: element (p, j).</param>
    /// <param name="bias">bias[N] added to every row of C; empty for none.</param>
    /// <param name="m">Rows of C.</param>
    /// <param name="n">Columns of C.</param>
    /// <param name="p">Inner dimension.</param>
    /// <param name="chunk">Extent of P each slice of the grid's Z covers (a multiple of T; ≥ P for one slice).</param>
    /// <param name="c">C: [M, N] row-major, overwritten; with S slices [S, M, N], one partial C per slice.</param>
    /// <typeparam name="TVariant">The backend's shared memory (see <see cref="IKernelVariant"/>).</typeparam>
    public static void MatMulKernel<TVariant>(ArrayView<float> a, Strides aStrides, ArrayView<float> b,
        Strides bStrides, ArrayView<float> bias, int m, int n, int p, int chunk, ArrayView<float> c)
        where TVariant : struct, IKernelVariant
    {
        // Group indices read once: on the CPU accelerator each read is a thread-static lookup.
        int t = Group.DimX;
        int tx = Group.IdxX;
        int ty = Group.IdxY;
        int edge = ThreadBlock * t;   // rows (and columns) of C per group
        int pitch = edge + SlicePad;  // floats per staged row q of a slice
        // Row blocks run along the grid's X (up to 2^31 - 1 groups; Y stops at 65535 on CUDA).
        int row0 = Grid.IdxX * edge;
        int col0 = Grid.IdxY * edge;

        // Shared: sliceA [T, 4T + pad] (A transposed), then sliceB [T, 4T + pad].
        ArrayView<float> shared = default(TVariant).SharedFloats(SharedFloats);
        ArrayView<float> sliceA = shared.SubView(0, t * pitch);
        ArrayView<float> sliceB = shared.SubView(t * pitch, t * pitch);

        // Split-K: slice Grid.IdxZ takes P's range [first, last) and writes its own [M, N] partial of C.
        int first = Grid.IdxZ * chunk;
        int last = Math.Min(p, first + chunk);
        ArrayView<float> partial = c.SubView((long)Grid.IdxZ * m * n, (long)m * n);

        var block = default(Block4x4);
        for (int start = first; start < last; start += t)
        {
            // A(i, q) and B(q, j) are the same staging problem with the roles of the strides swapped.
            Stage(a, aStrides.Col, aStrides.Row, row0, m, start, last, t, tx, ty, pitch, sliceA);
            Stage(b, bStrides.Row, bStrides.Col, col0, n, start, last, t, tx, ty, pitch, sliceB);
            Group.Barrier();
            for (int q = 0; q < t; q++)
            {
                int aq = q * pitch + ty; // A(row0 + ty + rT, start + q) at aq + rT
                int bq = q * pitch + tx; // B(start + q, col0 + tx + cT) at bq + cT
                block.MultiplyAdd(
                    sliceA[aq], sliceA[aq + t], sliceA[aq + 2 * t], sliceA[aq + 3 * t],
                    sliceB[bq], sliceB[bq + t], sliceB[bq + 2 * t], sliceB[bq + 3 * t]);
            }
            Group.Barrier();
        }

        block.Store(bias, row0 + ty, col0 + tx, t, m, n, partial);
    }

    /// <summary>
    /// Stages src(x, q) for x in [x0, x0 + 4T) and q in [p0, p0 + T) at slice[(q − p0)·pitch + (x − x0)],
    /// zero where x ≥ <paramref name="xCount"/> or q ≥ <paramref name="p"/>. Each thread loads 4 elements.
    /// Coalescing: tx, the index that runs fastest within a warp, goes along whichever of x and q is contiguous
    /// in memory, so each half-warp reads 16 consecutive floats. When q is contiguous (A = X row-major in
    /// Z = X·Wᵀ; B = W read transposed) thread (tx, ty) loads q = tx, x = ty + rT and its shared writes hit
    /// banks 2·tx + ty (pitch ≡ 2 mod 32): no conflict. When x is contiguous (A = Gᵀ in dW = Gᵀ·X; B = X
    /// row-major) it loads q = ty, x = tx + rT, and the two rows ty of a warp share banks pairwise: a
    /// two-way conflict on 8 writes per step, against 8·T conflict-free reads.
    /// </summary>
    /// <param name="src">The matrix, A or B.</param>
    /// <param name="pStride">Stride of src along the inner dimension P.</param>
    /// <param name="xStride">Stride of src along the outer dimension (rows of A, columns of B).</param>
    /// <param name="x0">First outer index of the slice.</param>
    /// <param name="xCount">Extent of the outer dimension (M for A, N for B).</param>
    /// <param name="p0">First inner index of the slice.</param>
    /// <param name="p">Extent of the inner dimension.</param>
    /// <param name="t">Tile edge T (group is T×T).</param>
    /// <param name="tx">Thread's X index in the group.</param>
    /// <param name="ty">Thread's Y index in the group.</param>
    /// <param name="pitch">Floats per row q of the slice.</param>
    /// <param name="slice">The slice: [T, pitch] in shared memory.</param>
    private static void Stage(ArrayView<float> src, int pStride, int xStride, int x0, int xCount, int p0, int p,
        int t, int tx, int ty, int pitch, ArrayView<float> slice)
    {
        bool qContiguous = pStride == 1;
        int q = qContiguous ? tx : ty;
        int x = qContiguous ? ty : tx;
        int pq = p0 + q;
        for (int r = 0; r < ThreadBlock; r++, x += t)
        {
            int xr = x0 + x;
            slice[q * pitch + x] = xr < xCount && pq < p ? src[(long)xr * xStride + (long)pq * pStride] : 0f;
        }
    }

    /// <summary>
    /// The 4×4 block of C one thread accumulates, as 16 named fields: ILGPU 1.5.3 does not unroll loops,
    /// so an array here would live in local memory; fields of a local struct stay in registers.
    /// Cij is C(i0 + iT, j0 + jT) for the thread's first row i0 and column j0.
    /// </summary>
    private struct Block4x4
    {
        private float c00, c01, c02, c03;
        private float c10, c11, c12, c13;
        private float c20, c21, c22, c23;
        private float c30, c31, c32, c33;

        /// <summary>Adds the outer product (a0..a3)ᵀ·(b0..b3): column q of A's rows times row q of B's columns.</summary>
        public void MultiplyAdd(float a0, float a1, float a2, float a3, float b0, float b1, float b2, float b3)
        {
            c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
            c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
            c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        }

        /// <summary>Writes the block (+ bias) to rows i0 + rT, columns j0 + cT of C, skipping those outside [M, N].</summary>
        public readonly void Store(ArrayView<float> bias, int i0, int j0, int t, int m, int n, ArrayView<float> c)
        {
            StoreRow(c00, c01, c02, c03, bias, i0, j0, t, m, n, c);
            StoreRow(c10, c11, c12, c13, bias, i0 + t, j0, t, m, n, c);
            StoreRow(c20, c21, c22, c23, bias, i0 + 2 * t, j0, t, m, n, c);
            StoreRow(c30, c31, c32, c33, bias, i0 + 3 * t, j0, t, m, n, c);
        }

        private static void StoreRow(float v0, float v1, float v2, float v3, ArrayView<float> bias,
            int i, int j0, int t, int m, int n, ArrayView<float> c)
        {
            if (i >= m)
                return;
            long rowStart = (long)i * n;
            StoreOne(v0, bias, rowStart, j0, n, c);
            StoreOne(v1, bias, rowStart, j0 + t, n, c);
            StoreOne(v2, bias, rowStart, j0 + 2 * t, n, c);
            StoreOne(v3, bias, rowStart, j0 + 3 * t, n, c);
        }

        private static void StoreOne(float v, ArrayView<float> bias, long rowStart, int j, int n, ArrayView<float> c)
        {
            if (j < n)
                c[rowStart + j] = bias.Length > 0 ? v + bias[j] : v;
        }
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

    /// <summary>Compiles the tiled kernel now rather than at its first launch (<see cref="KernelSet.CompileAll"/>).</summary>
    public void Compile() => _ = kernel.Value;

    /// <summary>Most slices P is split into: each adds an [M, N] partial to write and to sum.</summary>
    public const int MaxSlices = 16;

    /// <summary>
    /// Slices of P for C[M, N] = A·B on this device: enough groups to cover every multiprocessor twice when
    /// M·N alone gives few (dW = Gᵀ·X of a large batch has M = K, N = D, P = B), each slice at least 8 tile
    /// steps long. 1 where groups are single threads (the CPU accelerator's barrier-free product).
    /// </summary>
    public int SlicesFor(int m, int n, int p)
    {
        int tile = shape.Tile;
        if (tile == 1)
            return 1;
        int edge = ThreadBlock * tile;
        long blocks = (long)((m + edge - 1) / edge) * ((n + edge - 1) / edge);
        long wanted = (2L * shape.Multiprocessors + blocks - 1) / blocks;
        long longest = Math.Max(1, p / (8 * tile));
        return (int)Math.Clamp(Math.Min(wanted, longest), 1, MaxSlices);
    }

    /// <summary>Floats of workspace <see cref="Launch"/> uses for this product ([S, M, N]); 0 for none.</summary>
    public long WorkspaceFloats(int m, int n, int p) => SlicesFor(m, n, p) is int s && s > 1 ? (long)s * m * n : 0;

    /// <summary>
    /// Launches C = A·B (+ bias). Pass an empty view as <paramref name="bias"/> for none. With a workspace of
    /// <see cref="WorkspaceFloats"/> floats (and no bias) P is split into slices whose partial products are then
    /// added in slice order (deterministic); <paramref name="slices"/> overrides the count (tests).
    /// </summary>
    public void Launch(ArrayView<float> a, Strides aStrides, ArrayView<float> b, Strides bStrides,
        ArrayView<float> bias, int m, int n, int p, ArrayView<float> c, ArrayView<float> workspace = default,
        int? slices = null)
    {
        int tile = shape.Tile;
        if (tile == 1)
        {
            directKernel(shape.GridStride((long)m * n, shape.ElementGroup), a, aStrides, b, bStrides, bias, m, n, p, c);
            return;
        }
        int split = slices ?? SlicesFor(m, n, p);
        if (split > 1 && (bias.Length > 0 || workspace.Length < (long)split * m * n))
            split = 1;
        // Each slice a whole number of tile steps.
        int chunk = split == 1 ? Math.Max(p, 1) : ((p + split - 1) / split + tile - 1) / tile * tile;
        split = split == 1 ? 1 : (p + chunk - 1) / chunk;

        // One group per (4T)×(4T) block of C and slice of P; shared: two slices of [T, 4T + pad].
        int edge = ThreadBlock * tile;
        var groups = new Index3D((m + edge - 1) / edge, (n + edge - 1) / edge, split);
        var config = new KernelConfig(groups, new Index3D(tile, tile, 1),
            shape.Shared(2 * tile * (edge + SlicePad), SharedFloats));
        if (split == 1)
        {
            kernel.Value(config, a, aStrides, b, bStrides, bias, m, n, p, chunk, c);
            return;
        }
        ArrayView<float> partials = workspace.SubView(0, (long)split * m * n);
        kernel.Value(config, a, aStrides, b, bStrides, bias, m, n, p, chunk, partials);
        sum.Launch(partials, split, m * n, c);
    }
}
