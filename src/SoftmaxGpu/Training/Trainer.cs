using SoftmaxGpu.Devices;

namespace SoftmaxGpu.Training;

/// <summary>One fit: a <see cref="TrainingSession"/> opened on the sets, fitted once, closed.</summary>
public static class Trainer
{
    /// <param name="train">Standardized rows with class indices and, where they have them, target rows: an
    /// <see cref="EncodedSet"/> in memory, or a file read in blocks (<see cref="IRowSource"/>).</param>
    public static TrainResult Train(Gpu gpu, IRowSource train, IRowSource? validation, int k, TrainOptions options,
        Action<EpochReport>? onEpoch = null)
    {
        using var session = new TrainingSession(gpu, train, validation, k, options);
        return session.Fit(options, onEpoch);
    }
}
