using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Training;

/// <summary>
/// A set as the optimizers and the engine see it: row blocks that are on the device when they are used. Where
/// the set fits the device it is one resident block, uploaded once. Otherwise it stays in host memory and
/// blocks of <see cref="BlockRows"/> rows stream to the device in turn: each block (features, labels and the
/// source's target rows, <see cref="RowBlock"/>) is staged in page-locked memory and copied on a stream of its
/// own while the previous block is computed on: two device buffers, one computed on while the next block arrives
/// in the other.
/// </summary>
public sealed class TrainingData : IDisposable
{
    private const int DeviceBuffers = 2;
    private const int StagingBuffers = 2;

    private readonly Accelerator accelerator;
    private readonly IRowSource? host; // null for a set made on the device
    private readonly DeviceSet[] parts;
    private readonly PageLockedArray1D<float>[] stagedFeatures = [];
    private readonly PageLockedArray1D<int>[] stagedLabels = [];
    private readonly PageLockedArray1D<float>[] stagedTargets = [];
    private readonly AcceleratorStream? copies;
    private readonly bool ownsParts = true;

    private TrainingData(Accelerator accelerator, DeviceSet resident)
    {
        this.accelerator = accelerator;
        (Rows, Dim, BlockRows, Blocks) = (resident.Rows, resident.Dim, resident.Rows, 1);
        TotalRows = Rows;
        parts = [resident];
        ownsParts = false;
    }

    private TrainingData(Accelerator accelerator, IRowSource host, int blockRows, long totalRows)
    {
        this.accelerator = accelerator;
        this.host = host;
        (Rows, Dim, TotalRows, TargetWidth) = (checked((int)host.Rows), host.Dim, totalRows, host.TargetWidth);
        BlockRows = blockRows;
        Blocks = (Rows + blockRows - 1) / blockRows;
        if (Blocks == 1)
        {
            parts = [host is EncodedSet set ? new DeviceSet(accelerator, set) : Upload(accelerator, host)];
            return;
        }
        parts = Enumerable.Range(0, DeviceBuffers).Select(_ => new DeviceSet(accelerator, blockRows, Dim, TargetWidth)).ToArray();
        stagedFeatures = Staging<float>(accelerator, (long)blockRows * Dim);
        stagedLabels = Staging<int>(accelerator, blockRows);
        stagedTargets = TargetWidth == 0 ? [] : Staging<float>(accelerator, (long)blockRows * TargetWidth);
        copies = accelerator.CreateStream();
    }

    /// <summary>The whole set on the device, uploaded once.</summary>
    public static TrainingData Resident(Accelerator accelerator, EncodedSet set) => new(accelerator, set, Math.Max(1, set.Rows), set.Rows);

    /// <summary>A set already on the device (the benchmark's synthetic data), left to its owner to dispose.</summary>
    public static TrainingData OnDevice(Accelerator accelerator, DeviceSet set) => new(accelerator, set);

    /// <summary>
    /// Rows from host memory or a file, streamed in blocks of <paramref name="blockRows"/> rows (an in-memory set
    /// of one block is uploaded once instead).
    /// </summary>
    /// <param name="totalRows">Rows of the whole set when <paramref name="source"/> is one rank's shard of it (null: alone).</param>
    public static TrainingData Streamed(Accelerator accelerator, IRowSource source, int blockRows, long? totalRows = null) =>
        new(accelerator, source, (int)Math.Clamp(blockRows, 1, Math.Max(1, source.Rows)), totalRows ?? source.Rows);

    /// <summary>Rows here: the whole set, or this rank's shard of it.</summary>
    public int Rows { get; }
    /// <summary>N: rows of the whole set over every rank (= <see cref="Rows"/> alone); means divide by it.</summary>
    public long TotalRows { get; }
    public int Dim { get; }
    public int BlockRows { get; }
    public int Blocks { get; }
    public bool IsStreamed => copies is not null;
    /// <summary>Whether a streamed set can stage any rows in any order (<see cref="ForEachGathered"/>).</summary>
    public bool CanGather => IsStreamed && host is IRowGather;
    /// <summary>K where every row carries a target row, else 0 (<see cref="IRowSource.TargetWidth"/>).</summary>
    public int TargetWidth { get; }

    /// <summary>Rows of block <paramref name="block"/>: BlockRows, except a shorter last block.</summary>
    public int RowsOf(int block) => Math.Min(BlockRows, Rows - block * BlockRows);

    /// <summary>
    /// Runs <paramref name="body"/>(block, part, rows) for each block in <paramref name="order"/> (null: 0, 1, …),
    /// with the block's rows at the start of <paramref name="body"/>'s part on the device. The body launches
    /// kernels; a streamed block's successor is copied while they run.
    /// </summary>
    public void ForEachBlock(IReadOnlyList<int>? order, Action<int, DeviceSet, int> body)
    {
        int count = order?.Count ?? Blocks;
        int BlockAt(int i) => order?[i] ?? i;
        if (!IsStreamed)
        {
            for (int i = 0; i < count; i++)
                body(BlockAt(i), parts[0], Rows);
            return;
        }
        Stream(count, BlockAt, (i, block) => host!.Read((long)BlockAt(i) * BlockRows, RowsOf(BlockAt(i)), block), body);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(part, rows) for the rows of <paramref name="permutation"/> in blocks of
    /// <see cref="BlockRows"/>: block i holds rows permutation[i·BlockRows …] in that order, gathered from host
    /// memory (<see cref="CanGather"/>) while the previous block is computed on.
    /// </summary>
    public void ForEachGathered(int[] permutation, Action<DeviceSet, int> body)
    {
        if (host is not IRowGather gather || !IsStreamed)
            throw new InvalidOperationException("only a streamed set from host memory is gathered");
        ReadOnlySpan<int> RowsAt(int i) => permutation.AsSpan(i * BlockRows, RowsOf(i));
        Stream(Blocks, i => i, (i, block) => gather.Gather(RowsAt(i), block),
            (_, part, rows) => body(part, rows));
    }

    private delegate void Fill(int position, RowBlock block);

    /// <summary>
    /// The streaming loop: the i-th of <paramref name="count"/> blocks, block <paramref name="blockAt"/>(i), is staged
    /// by <paramref name="fill"/>, sent on the copy stream, and computed on by <paramref name="body"/> while the next
    /// is staged and sent.
    /// </summary>
    private void Stream(int count, Func<int, int> blockAt, Fill fill, Action<int, DeviceSet, int> body)
    {
        Stage(0, RowsOf(blockAt(0)), fill);
        for (int i = 0; i < count; i++)
        {
            // The previous block's computation has finished (so its buffer may take block i + 1), and block i is here.
            accelerator.DefaultStream.Synchronize();
            copies!.Synchronize();
            int block = blockAt(i);
            body(block, parts[i % DeviceBuffers], RowsOf(block));
            if (i + 1 < count)
                Stage(i + 1, RowsOf(blockAt(i + 1)), fill);
        }
        accelerator.DefaultStream.Synchronize();
    }

    /// <summary>A whole set read from its source in chunks into one device set (host memory holds a chunk).</summary>
    private static DeviceSet Upload(Accelerator accelerator, IRowSource source)
    {
        int rows = checked((int)source.Rows), d = source.Dim, k = source.TargetWidth;
        var set = new DeviceSet(accelerator, rows, d, k);
        int chunk = Math.Max(1, Math.Min(rows, GradientEngine.BlockFloats / Math.Max(1, d + k)));
        var features = new float[(long)chunk * d];
        var labels = new int[chunk];
        var targets = new float[(long)chunk * k];
        for (int start = 0; start < rows; start += chunk)
        {
            int count = Math.Min(chunk, rows - start);
            source.Read(start, count, new RowBlock(features, labels, targets).Take(count, d, k));
            set.Features.SubView((long)start * d, (long)count * d).CopyFromCPU(features.AsSpan(0, count * d));
            set.Labels.SubView(start, count).CopyFromCPU(labels.AsSpan(0, count));
            if (k > 0)
                set.Targets.SubView((long)start * k, (long)count * k).CopyFromCPU(targets.AsSpan(0, count * k));
        }
        return set;
    }

    /// <summary>Fills the page-locked buffers of position <paramref name="position"/> with its rows, then sends them
    /// on the copy stream into that position's device buffer.</summary>
    private void Stage(int position, int rows, Fill fill)
    {
        PageLockedArray1D<float> features = stagedFeatures[position % StagingBuffers];
        PageLockedArray1D<int> labels = stagedLabels[position % StagingBuffers];
        PageLockedArray1D<float>? targets = TargetWidth == 0 ? null : stagedTargets[position % StagingBuffers];
        fill(position, new RowBlock(features.Span, labels.Span, targets is null ? default : targets.Span).Take(rows, Dim, TargetWidth));
        DeviceSet part = parts[position % DeviceBuffers];
        ((ArrayView1D<float, Stride1D.Dense>)part.Features).CopyFromPageLockedAsync(copies!, features);
        ((ArrayView1D<int, Stride1D.Dense>)part.Labels).CopyFromPageLockedAsync(copies!, labels);
        if (targets is not null)
            ((ArrayView1D<float, Stride1D.Dense>)part.Targets).CopyFromPageLockedAsync(copies!, targets);
    }

    private static PageLockedArray1D<T>[] Staging<T>(Accelerator accelerator, long length) where T : unmanaged =>
        Enumerable.Range(0, StagingBuffers).Select(_ => accelerator.AllocatePageLocked1D<T>(length, uninitialized: true)).ToArray();

    public void Dispose()
    {
        if (ownsParts)
            foreach (DeviceSet part in parts)
                part.Dispose();
        foreach (PageLockedArray1D<float> staged in stagedFeatures)
            staged.Dispose();
        foreach (PageLockedArray1D<int> staged in stagedLabels)
            staged.Dispose();
        foreach (PageLockedArray1D<float> staged in stagedTargets)
            staged.Dispose();
        copies?.Dispose();
    }
}
