namespace SoftmaxGpu.Training;

/// <summary>Rows ready for the device: standardized X [N, D], class indices y [N], optional target rows Y [N, K].</summary>
public sealed record EncodedSet(float[] Features, int[] Labels, float[]? Targets, int Rows, int Dim) : IRowGather
{
    long IRowSource.Rows => Rows;

    /// <summary>Whether <see cref="Labels"/> are the rows' classes (false: rows read for prediction, their labels zeros).</summary>
    public bool HasLabels { get; init; } = true;

    /// <summary>K where the set has target rows, else 0.</summary>
    public int TargetWidth => Targets is null || Rows == 0 ? 0 : Targets.Length / Rows;

    public void Read(long start, int count, RowBlock block)
    {
        Features.AsSpan().Slice(checked((int)(start * Dim)), count * Dim).CopyTo(block.Features);
        Labels.AsSpan().Slice(checked((int)start), count).CopyTo(block.Labels);
        int k = TargetWidth;
        if (k > 0)
            Targets.AsSpan().Slice(checked((int)(start * k)), count * k).CopyTo(block.Targets);
    }

    public void Gather(ReadOnlySpan<int> rows, RowBlock block)
    {
        int k = TargetWidth;
        for (int r = 0; r < rows.Length; r++)
        {
            Features.AsSpan((int)((long)rows[r] * Dim), Dim).CopyTo(block.Features.Slice(r * Dim, Dim));
            block.Labels[r] = Labels[rows[r]];
            if (k > 0)
                Targets.AsSpan((int)((long)rows[r] * k), k).CopyTo(block.Targets.Slice(r * k, k));
        }
    }

    /// <summary>Rows [start, start + count) as a set of their own, targets with them.</summary>
    public EncodedSet Slice(int start, int count)
    {
        int d = Dim, k = TargetWidth;
        return new EncodedSet(Features[(start * d)..((start + count) * d)], Labels[start..(start + count)],
            k == 0 ? null : Targets![(start * k)..((start + count) * k)], count, d);
    }
}
