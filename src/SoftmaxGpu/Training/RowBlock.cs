namespace SoftmaxGpu.Training;

/// <summary>
/// The batch contract: the spans a source writes a block of <c>count</c> rows into — standardized features
/// X [count, D] row-major, class indices y [count], and, where the source has them (<see cref="IRowSource.TargetWidth"/>
/// = K), target rows Y [count, K]: probabilities, a smoothed one-hot, a multi-label tag set as 0/1, or any of
/// these scaled by the row's weight (target mass, <see cref="Weighting"/>). Without targets the span is empty.
/// </summary>
public readonly ref struct RowBlock(Span<float> features, Span<int> labels, Span<float> targets)
{
    /// <summary>X: [count, D] row-major.</summary>
    public Span<float> Features { get; } = features;
    /// <summary>y: [count] class indices.</summary>
    public Span<int> Labels { get; } = labels;
    /// <summary>Y: [count, K], or empty where the source has no targets.</summary>
    public Span<float> Targets { get; } = targets;

    /// <summary>The first <paramref name="rows"/> rows of each span (<paramref name="dim"/> features, <paramref name="width"/> targets a row).</summary>
    public RowBlock Take(int rows, int dim, int width) =>
        new(Features[..(rows * dim)], Labels[..rows], width == 0 ? default : Targets[..(rows * width)]);
}
