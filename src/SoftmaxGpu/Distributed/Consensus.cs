using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Distributed;

/// <summary>
/// Checks that every rank holds the same thing (options, the data's header, the resolved plan, the trained θ):
/// each hashes its own description to 64 bits, and one all-reduce of (min, max) tells every rank at once whether
/// they all agree. A mismatch is an error on every rank, so the job ends instead of hanging on a collective call
/// that one rank makes and another does not.
/// </summary>
public static class Consensus
{
    /// <summary>Throws <see cref="ArgumentException"/> on every rank unless all ranks' descriptions hash alike.</summary>
    /// <param name="what">What was compared, for the message.</param>
    /// <param name="describe">This rank's description; not computed for one process alone.</param>
    public static void Require(ICommunicator ranks, string what, Func<string> describe)
    {
        if (ranks.Size == 1)
            return;
        long mine = Hash(describe());
        (long min, long max) = ranks.MinMax(mine);
        if (min != max)
            throw new ArgumentException($"the {ranks.Size} ranks disagree on {what} (this rank's fingerprint {mine:x16}; the " +
                                        $"ranks' range {min:x16}…{max:x16}): start every rank with the same data files and options");
    }

    /// <summary>The first 64 bits of the SHA-256 of the text's UTF-8.</summary>
    public static long Hash(string text) =>
        BinaryPrimitives.ReadInt64LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>
    /// What must be the same on every rank for them to train together: the options, the plan (the optimizer,
    /// epochs, batch, λ, the schedule; not the memory, which is each device's own) and the whole sets' shapes.
    /// </summary>
    public static Func<string> Describe(TrainOptions options, TrainPlan plan, IRowSource train, IRowSource? validation, int k) => () =>
        string.Join("\n",
            (options with { Ranks = SingleProcess.Instance, InitialTheta = null, TargetColumns = null }).ToString(),
            string.Join(",", options.TargetColumns ?? []),
            options.InitialTheta is float[] start ? Bits(start)() : "",
            (plan with { Why = "", DeviceMemory = 0, BlockRows = 0, Rows = 0 }).ToString(),
            $"N={train.Rows} D={train.Dim} K={k} validation={validation?.Rows}");

    /// <summary>The exact bits of θ (float, or an optimizer's float64 position), as hex: two ranks' θ are the same when these are.</summary>
    public static Func<string> Bits<T>(T[] theta) where T : unmanaged =>
        () => Convert.ToHexString(SHA256.HashData(MemoryMarshal.AsBytes(theta.AsSpan())));
}
