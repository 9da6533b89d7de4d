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
            if (info.IsGenericMethodDefinition) // CUDA's variant (see IKernelVariant), and the softmax head where there is one
                info = info.MakeGenericMethod([typeof(WarpVariant), .. info.GetGenericArguments().Skip(1).Select(_ => typeof(SoftmaxHead))]);
            var entry = EntryPointDescription.FromExplicitlyGroupedKernel(info);
            var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
            result.Add((name, compiled.PTXAssembly));
        }
        return result;
    }
}
