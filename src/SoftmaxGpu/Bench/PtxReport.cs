using System.Reflection;
using System.Text.RegularExpressions;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels;

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

/// <summary>
/// The PTX ILGPU generates for the hot kernels, compiled here for an H100/H200 (sm_90, PTX ISA 8.8) without a
/// GPU or a driver: ILGPU's PTX backend needs neither. Registers in PTX are virtual; ptxas assigns the real
/// ones (and any spills) only on the GPU machine.
/// </summary>
public static class PtxReport
{
    public static readonly (string Name, Type Type, string Method)[] HotKernels =
    [
        ("fused step", typeof(FusedStep), nameof(FusedStep.FusedStepKernel)),
        ("partial sum", typeof(PartialSum), nameof(PartialSum.PartialSumKernel)),
        ("matrix product", typeof(MatMul), nameof(MatMul.MatMulKernel)),
        ("softmax", typeof(Softmax), nameof(Softmax.SoftmaxKernel)),
        ("shuffle", typeof(Shuffle), nameof(Shuffle.ShuffleKernel)),
        ("copy probe", typeof(Ceilings), nameof(Ceilings.CopyKernel)),
    ];

    /// <summary>Compiles each hot kernel to PTX; returns its text by kernel name.</summary>
    public static IReadOnlyList<(string Name, string Ptx)> Compile()
    {
        using Context context = Backends.CreateContext();
        var capabilities = new CudaCapabilityContext(CudaArchitecture.SM_90);
        using var backend = new PTXBackend(context, capabilities, CudaArchitecture.SM_90, CudaInstructionSet.ISA_88, nvvmAPI: null);
        var result = new List<(string, string)>();
        foreach ((string name, Type type, string method) in HotKernels)
        {
            MethodInfo info = type.GetMethod(method, BindingFlags.Public | BindingFlags.Static)
                              ?? throw new InvalidOperationException($"{type.Name}.{method} not found");
            if (info.IsGenericMethodDefinition) // CUDA's variant (see IKernelVariant)
                info = info.MakeGenericMethod(typeof(WarpVariant));
            var entry = EntryPointDescription.FromExplicitlyGroupedKernel(info);
            var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
            result.Add((name, compiled.PTXAssembly));
        }
        return result;
    }
}
