using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace SoftmaxGpu.Tests;

/// <summary>
/// A skip whose reason is told once per run. `dotnet test` lists every skipped test with its reason and the
/// assembly it came from, and an absent device skips some eighty tests for one reason: the first skip of a reason
/// carries it, the others skip without one. Every such test is still reported and counted as skipped (CI reads the
/// counts); each further one is two lines, its name and the reporter's "from" line, which no option removes.
/// </summary>
internal static class SkipOnce
{
    private static readonly ConcurrentDictionary<string, bool> Told = new();

    [DoesNotReturn]
    public static void Because(string reason) => Assert.Skip(Told.TryAdd(reason, true) ? reason : "");
}
