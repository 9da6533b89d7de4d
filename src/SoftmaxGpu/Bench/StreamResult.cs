namespace SoftmaxGpu.Bench;

/// <summary>A streamed full-batch pass beside a plain host→device copy measured in the same run.</summary>
/// <param name="CopyBandwidth">Bytes per second of one block copied from page-locked memory to the device, alone.</param>
/// <param name="StreamBandwidth">Bytes of the set (features and labels) per second of a full-batch gradient pass that streams it.</param>
public sealed record StreamResult(string Device, BenchShape Shape, long DeviceMemory, int BlockRows, int Blocks,
    double CopyBandwidth, double StreamBandwidth, double PassMs)
{
    public double Ratio => StreamBandwidth / CopyBandwidth;

    /// <summary>Rows per second of each rank's pass over its shard (one entry alone).</summary>
    public double[] RanksRowsPerSecond { get; init; } = [];

    /// <summary>Each rank's share of its pass spent in the all-reduce (zeros alone).</summary>
    public double[] RanksReduceShare { get; init; } = [];

    /// <summary>This rank's mean all-reduce time per pass, host copies included.</summary>
    public double ReduceMs { get; init; }
}
