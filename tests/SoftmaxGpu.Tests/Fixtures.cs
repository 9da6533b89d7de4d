using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Tests;

/// <summary>
/// One accelerator for a test class, as ILGPU's own tests do it: an abstract fixture, thin subclasses per
/// device. The classes of a device that is absent are left out of the run (<see cref="DeviceTestFramework"/>); should
/// one run anyway, the fixture leaves <see cref="SkipReason"/> set and its tests skip, the first saying why —
/// except an OpenCL device where <c>SOFTMAXGPU_REQUIRE_OPENCL=1</c> (CI's OpenCL pass): there its absence
/// fails every test of the class, so a pass without OpenCL can never look green.
/// </summary>
public abstract class AcceleratorFixture : IDisposable
{
    private readonly Context? context;

    private readonly Backend? backend;

    /// <param name="backend">The backend row the tests run as (null: the accelerator's own).</param>
    protected AcceleratorFixture(AcceleratorType type, CPUDevice? cpu = null, bool sharedMemoryShape = false, Backend? backend = null)
    {
        this.backend = backend;
        context = Backends.CreateContext(cpu);
        Device? device = context.Devices.FirstOrDefault(d => d.AcceleratorType == type);
        // PoCL has been seen, once or twice on a loaded 2-core machine, to list no device to a process: where
        // OpenCL is required, look again a few times before failing (and say how often it looked).
        for (int attempt = 2; device is null && type == AcceleratorType.OpenCL && OpenCLRequired && attempt <= OpenCLAttempts; attempt++)
        {
            Thread.Sleep(TimeSpan.FromSeconds(2));
            context.Dispose();
            context = Backends.CreateContext(cpu);
            device = context.Devices.FirstOrDefault(d => d.AcceleratorType == type);
        }
        if (device is null && type == AcceleratorType.OpenCL && OpenCLRequired)
            throw new InvalidOperationException($"SOFTMAXGPU_REQUIRE_OPENCL=1 but there is no OpenCL device here ({OpenCLAttempts} looks): " +
                                                Backends.Discover(context).First(i => i.Backend.Type == type).Missing);
        if (device is null)
        {
            SkipReason = $"no {type} device here: " +
                         Backends.Discover(context).First(i => i.Backend.Type == type).Missing;
            return;
        }
        Accelerator = device.CreateAccelerator(context);
        LaunchShape shape = sharedMemoryShape
            ? new LaunchShape(Accelerator.MaxNumThreadsPerGroup, Accelerator.WarpSize,
                Accelerator.NumMultiprocessors * Accelerator.MaxNumThreadsPerMultiprocessor)
            : new LaunchShape(Accelerator);
        Kernels = new KernelSet(Accelerator, shape);
    }

    private const int OpenCLAttempts = 5;

    /// <summary>Set by CI's OpenCL pass: OpenCL tests must run, not skip.</summary>
    public static bool OpenCLRequired => Environment.GetEnvironmentVariable("SOFTMAXGPU_REQUIRE_OPENCL") == "1";

    public Accelerator? Accelerator { get; }
    public KernelSet? Kernels { get; }
    public string? SkipReason { get; }

    /// <summary>The accelerator as a <see cref="Gpu"/>, or a skip of the calling test.</summary>
    public Gpu Gpu()
    {
        if (SkipReason is not null)
            SkipOnce.Because(SkipReason);
        return Devices.Gpu.Wrap(Accelerator!, Kernels!, backend);
    }

    public void Dispose()
    {
        Accelerator?.Dispose();
        context?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>ILGPU's CPU accelerator as SoftmaxGpu runs it: single-thread groups, barrier-free product.</summary>
public sealed class CpuFixture() : AcceleratorFixture(AcceleratorType.CPU);

/// <summary>
/// ILGPU's CPU accelerator with its default preset (16 threads a group, warp 4), and shapes from that limit:
/// exercises the tiled shared-memory product and the multi-thread group reductions without a GPU.
/// </summary>
public sealed class CpuGroupsFixture() : AcceleratorFixture(AcceleratorType.CPU, CPUDevice.Default, sharedMemoryShape: true);

/// <summary>The host engine: managed SIMD code for the gradient and forward passes, ILGPU's CPU accelerator for the rest.</summary>
public sealed class HostFixture() : AcceleratorFixture(AcceleratorType.CPU, backend: Backends.Host);

public sealed class CudaFixture() : AcceleratorFixture(AcceleratorType.Cuda);

public sealed class OpenCLFixture() : AcceleratorFixture(AcceleratorType.OpenCL);
