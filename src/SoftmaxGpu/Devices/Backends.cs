using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Devices;

/// <summary>
/// The accelerators SoftmaxGpu can run on. <c>auto</c> tries CUDA, then an OpenCL GPU, then the host engine
/// (managed SIMD code on the CPU's cores, the fastest CPU path); an OpenCL CPU device (PoCL) and ILGPU's CPU
/// accelerator (an emulator that runs every kernel anywhere, for testing them) are used when named. Adding a
/// backend is one row of <see cref="All"/>.
/// </summary>
public static class Backends
{
    public static readonly Backend Cuda = new("cuda", AcceleratorType.Cuda, "NVIDIA GPU through the CUDA driver");
    public static readonly Backend OpenCL = new("opencl", AcceleratorType.OpenCL, "OpenCL 2.0+ device");
    public static readonly Backend Host = new("host", AcceleratorType.CPU,
        "managed SIMD engine on the CPU's cores (System.Numerics.Tensors)", Host: true);
    public static readonly Backend Cpu = new("cpu", AcceleratorType.CPU, "ILGPU's CPU accelerator (emulated threads)");

    /// <summary>Every backend, <c>--device auto</c>'s order first.</summary>
    public static readonly IReadOnlyList<Backend> All = [Cuda, OpenCL, Host, Cpu];

    /// <summary>What <c>--device auto</c> tries, in order (OpenCL only where the device is a GPU).</summary>
    public static readonly IReadOnlyList<Backend> Auto = [Cuda, OpenCL, Host];

    public static IReadOnlyList<string> Names => All.Select(b => b.Name).ToList();

    public static Backend Parse(string name) =>
        All.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException(
            $"unknown device '{name}'; expected auto or one of: {string.Join(", ", Names)}");

    private static int resolverInstalled;

    /// <summary>
    /// ILGPU imports the CUDA driver as "cuda", so .NET probes libcuda.so, which only the driver's
    /// development symlink provides. Most machines with a driver have just libcuda.so.1: resolve to it.
    /// Uses the load context's fallback event, which runs only after normal probing failed, so it never
    /// conflicts with a resolver ILGPU may set itself.
    /// </summary>
    public static void InstallCudaResolver()
    {
        if (Interlocked.Exchange(ref resolverInstalled, 1) == 1)
            return;
        AssemblyLoadContext.Default.ResolvingUnmanagedDll += (Assembly _, string name) =>
        {
            if (!OperatingSystem.IsLinux() || name is not ("cuda" or "libcuda" or "libcuda.so"))
                return IntPtr.Zero;
            return NativeLibrary.TryLoad("libcuda.so.1", out IntPtr handle) ? handle : IntPtr.Zero;
        };
    }

    /// <summary>
    /// ILGPU's CPU accelerator as SoftmaxGpu configures it: one simulated multiprocessor per core, so
    /// kernels use every core, and groups of at most 2 threads (the smallest ILGPU allows). ILGPU's default
    /// preset (one multiprocessor, 16 threads a group) runs on one core and pays an OS-level barrier
    /// for every group it schedules: 5–25× slower here on the same kernels (measured, 2 cores).
    /// </summary>
    public static CPUDevice CpuDevice() =>
        new(numThreadsPerWarp: 2, numWarpsPerMultiprocessor: 1, numMultiprocessors: Environment.ProcessorCount);

    /// <summary>A context with every backend enabled (CUDA, OpenCL, CPU) and the algorithms library.</summary>
    public static Context CreateContext(CPUDevice? cpu = null)
    {
        InstallCudaResolver();
        return Context.Create(builder => builder
            .Cuda()
            .OpenCL()
            .CPU(cpu ?? CpuDevice())
            .EnableAlgorithms());
    }

    /// <summary>
    /// The context the host engine needs: ILGPU's CPU accelerator alone, without the GPU backends or the algorithms
    /// library (its kernels are the optimizers' small ones, which compile without it). Building the full context
    /// costs a short run 30–40 ms more (the algorithms' intrinsics, JIT-compiled at start-up).
    /// </summary>
    public static Context CreateHostContext() =>
        Context.Create(builder => builder.CPU(CpuDevice()));

    /// <summary>
    /// The CUDA and OpenCL devices <see cref="CreateContext"/> would enable, found without building a context: with
    /// the predicates of ILGPU 1.5.3's <c>Cuda()</c> and <c>OpenCL()</c>, so the two agree.
    /// </summary>
    public static IReadOnlyList<Device> ProbeAccelerators()
    {
        InstallCudaResolver();
        return
        [
            .. CudaDevice.GetDevices(cuda => cuda.Architecture.HasValue && cuda.InstructionSet is { } isa
                                             && PTXCodeGenerator.SupportedInstructionSets.Contains(isa)),
            .. CLDevice.GetDevices(cl => cl.CLStdVersion >= CLBackend.MinimumVersion && cl.Capabilities.GenericAddressSpace),
        ];
    }

    /// <summary>
    /// Whether <paramref name="requested"/> ("auto" or a backend's name) opens the host engine: named, or auto where
    /// no device it tries first (CUDA, an OpenCL GPU) is present. Probes without building a context.
    /// </summary>
    public static bool OpensHost(string requested)
    {
        if (!string.Equals(requested, "auto", StringComparison.OrdinalIgnoreCase))
            return Parse(requested) == Host;
        IReadOnlyList<Device> found = ProbeAccelerators();
        return !Auto.Where(backend => !backend.Host).Any(backend =>
            AutoTries(new DeviceInfo(backend, found.FirstOrDefault(d => d.AcceleratorType == backend.Type), Missing: null)));
    }

    /// <summary>Every backend with its first device, or why it has none.</summary>
    public static IReadOnlyList<DeviceInfo> Discover(Context context) => Discover(context.Devices);

    /// <summary>Every backend with its first device among <paramref name="devices"/>, or why it has none.</summary>
    public static IReadOnlyList<DeviceInfo> Discover(IReadOnlyList<Device> devices) =>
        All.Select(backend =>
        {
            Device? device = devices.FirstOrDefault(d => d.AcceleratorType == backend.Type);
            return new DeviceInfo(backend, device, device is null ? WhyMissing(backend) : null);
        }).ToList();

    private static string WhyMissing(Backend backend) => backend.Type switch
    {
        AcceleratorType.Cuda => NativeLibrary.TryLoad("libcuda.so.1", out IntPtr h) && Free(h)
            ? "libcuda.so.1 loads but the driver reports no usable device"
            : "no CUDA driver (libcuda.so.1 not found)",
        AcceleratorType.OpenCL => NativeLibrary.TryLoad("libOpenCL.so.1", out IntPtr h)
            && Free(h)
            ? "an OpenCL loader is present but no device supports OpenCL C 2.0+ (or 3.0 with generic address space)"
            : "no OpenCL loader (libOpenCL.so.1 not found)",
        _ => "not available",
    };

    private static bool Free(IntPtr handle)
    {
        NativeLibrary.Free(handle);
        return true;
    }

    /// <summary>
    /// Why <paramref name="kernels"/> cannot run on their accelerator, or null when every kernel compiles there.
    /// ILGPU's CPU accelerator runs any kernel and is not checked (compiling all would cost it a second).
    /// </summary>
    public static string? WhyUnusable(Accelerator accelerator, KernelSet kernels)
    {
        if (accelerator.AcceleratorType == AcceleratorType.CPU)
            return null;
        try
        {
            kernels.CompileAll();
            return null;
        }
        catch (Exception e) when (e is InternalCompilerException or NotSupportedException or AcceleratorException
                                       or InvalidOperationException or ArgumentException)
        {
            return $"{e.GetType().Name}: {e.InnerException?.Message ?? e.Message}";
        }
    }

    /// <summary>
    /// The devices to try for <paramref name="requested"/> ("auto" or a backend's name), in order: for auto the
    /// present ones of <see cref="Auto"/> (an OpenCL device only if it is a GPU); otherwise the one named. An
    /// explicit request for a missing device is an error that lists what is present.
    /// </summary>
    public static IReadOnlyList<DeviceInfo> Candidates(Context context, string requested)
    {
        IReadOnlyList<DeviceInfo> found = Discover(context);
        if (string.Equals(requested, "auto", StringComparison.OrdinalIgnoreCase))
            return found.Where(AutoTries).ToList();

        Backend backend = Parse(requested);
        DeviceInfo info = found.Single(d => d.Backend == backend);
        if (info.Device is not null)
            return [info];
        // The host engine by what it is (its device is ILGPU's CPU accelerator only because its buffers live there).
        string present = string.Join(", ", found.Where(d => d.Present)
            .Select(d => $"{d.Backend.Name} ({(d.Backend.Host ? "the managed SIMD engine" : d.Device!.Name)})"));
        throw new DeviceNotFoundException(
            $"device '{backend.Name}' is not available here: {info.Missing}. Present: {present}");
    }

    /// <summary>Whether <c>--device auto</c> tries this device: present, in <see cref="Auto"/>, and a GPU if it is OpenCL.</summary>
    public static bool AutoTries(DeviceInfo info) =>
        info.Device is Device device && Auto.Contains(info.Backend) && (info.Backend != OpenCL || IsGpu(device));

    /// <summary>Whether an OpenCL device is a GPU (PoCL's is a CPU: auto passes it over for the host engine).</summary>
    public static bool IsGpu(Device device) =>
        device is not CLDevice cl || (cl.DeviceType & CLDeviceType.CL_DEVICE_TYPE_GPU) != 0;

    /// <summary>One line saying what runs: backend name, device name, memory, warp, group limit (for the host
    /// engine: cores and vector width).</summary>
    public static string Describe(Backend backend, Accelerator accelerator) => backend.Host
        ? $"{backend.Name}: managed SIMD engine ({Environment.ProcessorCount} cores, {Kernels.Host.HostTile.Width * 32}-bit vectors, host memory)"
        : $"{backend.Name}: {accelerator.Name} ({Memory(accelerator.Device)}, {accelerator.NumMultiprocessors} " +
          $"multiprocessors, warp {accelerator.WarpSize}, max group {accelerator.MaxNumThreadsPerGroup})";

    /// <summary>Device memory in GiB; the CPU accelerator uses host memory and reports no real size.</summary>
    public static string Memory(Device device) =>
        device.AcceleratorType == AcceleratorType.CPU
            ? "host memory"
            : $"{device.MemorySize / (1024.0 * 1024 * 1024):F1} GiB";
}
