using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// The whole gradient of a batch in one pass over X, for models whose W fits beside a tile of rows in shared
/// memory (small K): for each tile of R rows, logits Z = X·Wᵀ + b, the head's outputs, loss and G = ∂loss/∂Z·scale
/// (<see cref="IHead"/>: the stable softmax and cross-entropy, or σ and the binary cross-entropy per tag, or any other
/// head compiled in), and dW += Gᵀ·X, db += Σ G, without Z, Q or G ever leaving the chip. Each group writes
/// its partial [dW | db | loss | correct]; <see cref="PartialSum"/> adds the partials of all groups in a
/// fixed order, so the result is the same on every run.
/// </summary>
public sealed class FusedStep
{
    /// <summary>Most rows staged at once: enough to share each W read among many rows.</summary>
    public const int MaxTileRows = 32;

    /// <summary>
    /// Groups per multiprocessor, at most: two 256-thread groups keep each SM's loads in flight (a group's
    /// shared memory is up to 48 KiB), and every group costs a partial of K·D + K floats to write and to sum.
    /// </summary>
    public const int GroupsPerMultiprocessor = 2;

    // Compiled at the first launch: Fits and Preferred are asked on paths that never launch it.
    private readonly Lazy<Action<KernelConfig, ArrayView<float>, ArrayView<Float4>, ArrayView<int>, ArrayView<int>,
        ArrayView<float>, ArrayView<float>, FusedBatch, ArrayView<float>>> kernel;
    private readonly LaunchShape shape;

    private FusedStep(LaunchShape shape, Func<Action<KernelConfig, ArrayView<float>, ArrayView<Float4>, ArrayView<int>,
        ArrayView<int>, ArrayView<float>, ArrayView<float>, FusedBatch, ArrayView<float>>> load)
    {
        this.shape = shape;
        kernel = new(load);
    }

    /// <summary>The fused pass with <typeparamref name="THead"/>'s row step compiled in.</summary>
    public static FusedStep For<THead>(Accelerator accelerator, LaunchShape shape) where THead : struct, IHead =>
        new(shape, () => shape.Portable
            ? accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<Float4>, ArrayView<int>, ArrayView<int>,
                ArrayView<float>, ArrayView<float>, FusedBatch, ArrayView<float>>(FusedStepKernel<OpenCLVariant, THead>)
            : accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<Float4>, ArrayView<int>, ArrayView<int>,
                ArrayView<float>, ArrayView<float>, FusedBatch, ArrayView<float>>(FusedStepKernel<WarpVariant, THead>));

    /// <summary>
    /// Groups stride over tiles of R rows. Per tile, with barriers between the phases:
    /// 1. stage X rows (gathered through <paramref name="order"/>) into shared memory, coalesced along D;
    /// 2. z[r, c] = b[c] + Σ_j X[r, j]·W[c, j], a (row, class) pair per thread, or per L lanes when the tile
    ///    has fewer pairs than threads (W is read through the cache);
    /// 3. per row, the head: outputs q (softmax: m = max z, s = Σ exp(z − m), q = exp(z − m)/s), loss
    ///    ((m − z_y) + log s), hit, then G = ∂loss/∂z·scale (softmax: (Σy·q − y)·scale), written over the logits;
    /// 4. dW[c, j] += Σ_r G[r, c]·X[r, j], db[c] += Σ_r G[r, c], into shared accumulators that each thread
    ///    owns by column (j ≡ thread mod threads), so no two threads ever add to the same float.
    /// At the end each group writes its accumulators and its reduced loss and correct count to its partial.
    /// Shared memory: tile [max(R·(RowStride + K), threads)] | dW [K, D] | db [K], where the tile region holds
    /// xs [R, RowStride] | zs [R, K] while tiles are processed and the final reductions' scratch [threads] after.
    /// </summary>
    /// <param name="x">X: [N, D] row-major.</param>
    /// <param name="x4">X again as [N, D/4] groups of four floats when D is a multiple of 4, else empty.</param>
    /// <param name="order">Rows of X in batch order: [B]; empty for X's own first B rows.</param>
    /// <param name="labels">y: [N] class indices, indexed like X (used when <paramref name="targets"/> is empty).</param>
    /// <param name="targets">Y: [N, K] target rows indexed like X, or empty for class labels.</param>
    /// <param name="theta">θ = [W (K·D) | b (K)].</param>
    /// <param name="batch">Sizes and scales.</param>
    /// <param name="partials">[groups, P]: each group's [dW | db | LossScale·Σloss | correct], overwritten.</param>
    /// <typeparam name="TVariant">The backend's lane sum and shared memory (see <see cref="IKernelVariant"/>).</typeparam>
    /// <typeparam name="THead">The head: what a row's logits give (<see cref="IHead"/>).</typeparam>
    public static void FusedStepKernel<TVariant, THead>(ArrayView<float> x, ArrayView<Float4> x4, ArrayView<int> order,
        ArrayView<int> labels, ArrayView<float> targets, ArrayView<float> theta, FusedBatch batch, ArrayView<float> partials)
        where TVariant : struct, IKernelVariant
        where THead : struct, IHead
    {
        int tid = Group.IdxX;
        int threads = Group.DimX;
        int d = batch.D;
        int k = batch.K;
        int kd = k * d;
        int stride = batch.RowStride;
        bool soft = targets.Length > 0;
        bool gathered = order.Length > 0;
        bool vectors = x4.Length > 0;

        ArrayView<float> shared = default(TVariant).SharedFloats(LaunchShape.MaxSharedFloats);
        int tileFloats = Math.Max(batch.TileRows * (stride + k), threads);
        ArrayView<float> xs = shared.SubView(0, batch.TileRows * stride);
        ArrayView<float> zs = shared.SubView(batch.TileRows * stride, batch.TileRows * k);
        ArrayView<float> scratch = shared.SubView(0, threads); // only after the last tile's barrier
        ArrayView<float> grad = shared.SubView(tileFloats, kd + k);

        // Each thread zeroes the accumulators it owns: columns j ≡ tid of dW, and entries c ≡ tid of db.
        for (int j = tid; j < d; j += threads)
            for (int c = 0; c < k; c++)
                grad[c * d + j] = 0f;
        for (int c = tid; c < k; c += threads)
            grad[kd + c] = 0f;

        float loss = 0f, lost = 0f; // compensated (Totals.Kahan)
        float correct = 0f;
        int tiles = (batch.Rows + batch.TileRows - 1) / batch.TileRows;
        for (int tile = Grid.IdxX; tile < tiles; tile += Grid.DimX) // whole groups stride: barriers stay uniform
        {
            int first = tile * batch.TileRows;
            int rows = Math.Min(batch.TileRows, batch.Rows - first);

            // 1. xs[r, :] = X[row(first + r), :]. With D a multiple of 4 every row starts 16-byte aligned, so
            //    threads move 16 bytes each (ld.global.v4 on CUDA), flat over the tile's rows.
            if (vectors)
            {
                int quads = d / 4;
                for (int e = tid; e < rows * quads; e += threads)
                {
                    int r = e / quads;
                    int q = e - r * quads;
                    Float4 v = x4[(long)(gathered ? order[first + r] : first + r) * quads + q];
                    int at = r * stride + 4 * q;
                    xs[at] = v.X;
                    xs[at + 1] = v.Y;
                    xs[at + 2] = v.Z;
                    xs[at + 3] = v.W;
                }
            }
            else
            {
                for (int r = 0; r < rows; r++)
                {
                    long source = (long)(gathered ? order[first + r] : first + r) * d;
                    for (int j = tid; j < d; j += threads)
                        xs[r * stride + j] = x[source + j];
                }
            }
            Group.Barrier();

            // 2. zs[r, c] = b[c] + xs[r, :]·W[c, :]. When a tile has fewer (row, class) pairs than threads,
            //    L adjacent lanes of a warp share a pair, each summing every L-th feature, and add their sums
            //    (by shuffles; L is 1 where the device has none). Every thread runs the same rounds, so all
            //    lanes of a warp meet at each shuffle.
            int lanes = batch.Lanes;
            int pairsPerRound = threads / lanes;
            int lane = tid % lanes;
            for (int round = 0; round < rows * k; round += pairsPerRound)
            {
                int pair = round + tid / lanes;
                float z = 0f;
                if (pair < rows * k)
                {
                    int r = pair / k;
                    int c = pair - r * k;
                    for (int j = lane; j < d; j += lanes)
                        z += xs[r * stride + j] * theta[c * d + j];
                }
                z = default(TVariant).LaneSum(z, lanes);
                if (lane == 0 && pair < rows * k)
                    zs[pair] = theta[kd + pair % k] + z;
            }
            Group.Barrier();

            // 3. The head's outputs, loss and hit of each row, then G written over its logits.
            for (int r = tid; r < rows; r += threads)
            {
                int row = gathered ? order[first + r] : first + r;
                var z = new ViewRow(zs, r * k);
                var y = new ViewRow(targets, (long)row * k);
                int label = soft ? 0 : labels[row];
                RowLoss outcome = default(THead).Forward(z, z, k, y, label, soft, true);
                default(THead).Backward(z, k, y, label, soft, batch.GradScale, z);
                Totals.Kahan(ref loss, ref lost, outcome.Loss);
                if (outcome.Hit)
                    correct += 1f;
            }
            Group.Barrier();

            // 4. dW[c, j] += Σ_r G[r, c]·xs[r, j] over this thread's columns; db[c] += Σ_r G[r, c].
            for (int j = tid; j < d; j += threads)
            {
                for (int c = 0; c < k; c++)
                {
                    float sum = 0f;
                    for (int r = 0; r < rows; r++)
                        sum += zs[r * k + c] * xs[r * stride + j];
                    grad[c * d + j] += sum;
                }
            }
            for (int c = tid; c < k; c += threads)
            {
                float sum = 0f;
                for (int r = 0; r < rows; r++)
                    sum += zs[r * k + c];
                grad[kd + c] += sum;
            }
            Group.Barrier(); // the next tile overwrites xs and zs
        }

        long partial = (long)Grid.IdxX * batch.PartialLength;
        for (int j = tid; j < d; j += threads)
            for (int c = 0; c < k; c++)
                partials[partial + c * d + j] = grad[c * d + j];
        for (int c = tid; c < k; c += threads)
            partials[partial + kd + c] = grad[kd + c];
        float lossSum = GroupReduce.Sum(scratch, loss - lost);
        float correctSum = GroupReduce.Sum(scratch, correct);
        if (tid == 0)
        {
            partials[partial + kd + k] = batch.LossScale * lossSum;
            partials[partial + kd + k + 1] = correctSum;
        }
    }

    /// <summary>Compiles the kernel now rather than at its first launch (<see cref="KernelSet.CompileAll"/>).</summary>
    public void Compile() => _ = kernel.Value;

    /// <summary>
    /// Rows staged per tile for D×K, or 0 when W's accumulators and one row (or the group's reduction scratch,
    /// which reuses the tile's floats) do not fit in shared memory.
    /// </summary>
    public int TileRows(int d, int k)
    {
        int free = shape.SharedFloats - (k * d + k);
        int rows = free < shape.ElementGroup ? 0 : free / ((d | 1) + k);
        return Math.Clamp(rows, 0, MaxTileRows);
    }

    /// <summary>Whether the fused pass serves a D×K model on this device.</summary>
    public bool Fits(int d, int k) => TileRows(d, k) > 0;

    /// <summary>
    /// Rows × features of a batch up to which the fused pass is the faster one on ILGPU's CPU accelerator.
    /// Measured there (bench/RESULTS.md, batch 64): with D = 64 the fused epoch took half the time of the
    /// kernel-per-operation path (fewer launches), while with D = 784 (B·D = 50176) and for full batches the
    /// one-kernel-per-operation path, whose grid-stride product spreads finer over the cores, was faster.
    /// </summary>
    public const int CpuFusedElements = 16384;

    /// <summary>
    /// Whether the fused pass is the one to use for batches of <paramref name="rows"/> rows: wherever it fits on
    /// a GPU; on the CPU accelerator (single-thread groups) only for small batches, where launches dominate.
    /// </summary>
    public bool Preferred(int rows, int d, int k) =>
        Fits(d, k) && (shape.MaxGroup > 1 || (long)rows * d <= CpuFusedElements);

    /// <summary>
    /// Groups for a batch of <paramref name="rows"/> rows: one per tile up to two per multiprocessor, so a
    /// mini-batch spreads over the whole device (or over every core of the CPU accelerator) and a full batch
    /// runs as persistent groups that each stride over many tiles.
    /// </summary>
    public int Groups(int rows, int d, int k)
    {
        int tiles = (rows + TileRows(d, k) - 1) / TileRows(d, k);
        return Math.Clamp(tiles, 1, shape.Multiprocessors * GroupsPerMultiprocessor);
    }

    /// <summary>
    /// Writes the partial gradients of a batch to <paramref name="partials"/> ([groups, P], see
    /// <see cref="FusedBatch.PartialLength"/>) and returns the number of groups that wrote one.
    /// </summary>
    /// <param name="groups">Groups to launch; null picks <see cref="Groups"/>.</param>
    public int Launch(ArrayView<float> x, ArrayView<int> order, ArrayView<int> labels, ArrayView<float> targets,
        ArrayView<float> theta, FusedBatch batch, ArrayView<float> partials, int? groups = null)
    {
        if (batch.TileRows <= 0)
            throw new ArgumentException($"a {batch.D}×{batch.K} model does not fit the fused pass's shared memory");
        int count = groups ?? Groups(batch.Rows, batch.D, batch.K);
        int threads = shape.ElementGroup;
        int floats = Math.Max(batch.TileRows * (batch.RowStride + batch.K), threads) + batch.K * batch.D + batch.K;
        // A buffer's base is 256-byte aligned and rows of a multiple of 4 floats keep every quad 16-byte aligned;
        // X must therefore be a whole buffer (or start at a multiple of 4 floats), as GradientEngine passes it.
        ArrayView<Float4> x4 = batch.D % 4 == 0 && x.Length % 4 == 0 ? x.Cast<Float4>() : default;
        kernel.Value(new KernelConfig(count, threads, shape.Shared(floats, LaunchShape.MaxSharedFloats)),
            x, x4, order, labels, targets, theta, batch, partials);
        return count;
    }

    /// <summary>The batch description for <paramref name="rows"/> rows of a D×K model on this device.</summary>
    public FusedBatch Batch(int rows, int d, int k, float gradScale, float lossScale) =>
        new(rows, d, k, TileRows(d, k), Lanes(d, k), gradScale, lossScale);

    /// <summary>
    /// Lanes per logit: the threads a full tile leaves without a (row, class) pair of their own, shared out —
    /// MNIST's 784×10 stages 5 rows, 50 pairs for 256 threads, so 4 lanes each. At most a warp (shuffles).
    /// </summary>
    public int Lanes(int d, int k)
    {
        int pairs = Math.Max(1, TileRows(d, k) * k);
        int spare = LaunchShape.FloorPow2(Math.Max(1, shape.ElementGroup / pairs));
        return Math.Min(spare, shape.ShuffleWidth);
    }
}
