using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace SoftmaxGpu.Tests;

/// <summary>
/// A skip whose reason is told once per run: `dotnet test` lists every skipped test with its reason, and one
/// absence (no MPI here, say) skips several tests for one reason. The first skip of a reason carries it, the others
/// skip without one; every such test is still reported and counted as skipped (CI reads the counts). The classes of
/// an absent GPU are not even discovered (<see cref="DeviceTestFramework"/>).
/// </summary>
internal static class SkipOnce
{
    private static readonly ConcurrentDictionary<string, bool> Told = new();

    [DoesNotReturn]
    public static void Because(string reason) => Assert.Skip(Told.TryAdd(reason, true) ? reason : "");
}
