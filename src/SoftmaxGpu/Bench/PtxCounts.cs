using System.Text.RegularExpressions;

namespace SoftmaxGpu.Bench;

/// <summary>Counts read from one kernel's PTX: what the loads and stores compiled to, and whether anything spilled to local memory.</summary>
public sealed record PtxCounts(string Kernel, int Instructions, int GlobalVectorLoads, int GlobalScalarLoads,
    int GlobalStores, int SharedLoads, int SharedStores, int Barriers, int LocalAccesses, int FloatRegisters)
{
    private static int Count(string ptx, string pattern) => Regex.Matches(ptx, pattern, RegexOptions.Multiline).Count;

    public static PtxCounts Of(string kernel, string ptx)
    {
        Match floats = Regex.Match(ptx, @"\.reg \.f32\s+%f<(\d+)>");
        return new PtxCounts(kernel,
            Instructions: Count(ptx, @"^\s+[a-z@][^;]*;"),
            // ILGPU addresses views generically (ld.f32, not ld.global.f32): every ld/st that is not
            // param, shared or local space reads or writes device memory.
            GlobalVectorLoads: Count(ptx, @"\bld(\.global)?\.v[24]\."),
            GlobalScalarLoads: Count(ptx, @"\bld(\.global)?\.(?!v[24]\.|param|shared|local)[a-z]+\d+\b"),
            GlobalStores: Count(ptx, @"\bst(\.global)?\.(?!param|shared|local)"),
            SharedLoads: Count(ptx, @"\bld\.shared\."),
            SharedStores: Count(ptx, @"\bst\.shared\."),
            Barriers: Count(ptx, @"\bbar\.sync\b"),
            LocalAccesses: Count(ptx, @"\b(ld|st)\.local\."),
            FloatRegisters: floats.Success ? int.Parse(floats.Groups[1].Value) : 0);
    }
}
