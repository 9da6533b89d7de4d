using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Devices;

/// <summary>One accelerator and the kernels compiled for it (loaded once, kept for the process).</summary>
public sealed class Gpu : IDisposable
{
    private readonly Context? ownedContext;

    private Gpu(Context? ownedContext, Accelerator accelerator, KernelSet kernels, Backend backend)
    {
        this.ownedContext = ownedContext;
        Accelerator = accelerator;
        Kernels = kernels;
        Backend = backend;
    }

    public Accelerator Accelerator { get; }
    public KernelSet Kernels { get; }
    public Backend Backend { get; }
    /// <summary>Whether the host engine computes the gradient and forward passes (managed code, not kernels).</summary>
    public bool Host => Backend.Host;
    public string Description => Backends.Describe(Backend, Accelerator);

    /// <summary>
    /// Opens the device named by <paramref name="device"/>: auto, cuda, opencl, host or cpu. A GPU or OpenCL device
    /// first compiles every kernel; with auto, one that cannot is passed over with a line to
    /// <paramref name="notice"/>, and asked for by name it is an error that says why.
    /// </summary>
    /// <param name="localRank">This process's rank on its node in a data-parallel job: it takes the backend's device
    /// localRank mod G of the G there (<see cref="Distributed.Launch.DeviceIndex"/>); 0 alone (the first).</param>
    public static Gpu Open(string device = "auto", Action<string>? notice = null, int localRank = 0)
    {
        // Where the host engine runs, a context without the GPU backends and the algorithms library (a short run's
        // start-up is most of its time), built already where OpenSoon was told; where a GPU may run, every backend, as
        // the candidates below need.
        Context context = TakeSoon(device) ?? (Backends.OpensHost(device) ? Backends.CreateHostContext() : Backends.CreateContext());
        try
        {
            bool auto = string.Equals(device, "auto", StringComparison.OrdinalIgnoreCase);
            foreach ((Backend backend, Device? candidate, _) in Backends.Candidates(context, device))
            {
                Accelerator accelerator = ForRank(context, candidate!, localRank).CreateAccelerator(context);
                var kernels = new KernelSet(accelerator);
                string? why = Backends.WhyUnusable(accelerator, kernels);
                if (why is null)
                    return new Gpu(context, accelerator, kernels, backend);
                string message = $"{backend.Name} device {accelerator.Device.Name} cannot run SoftmaxGpu's kernels: {why}";
                accelerator.Dispose();
                if (!auto)
                    throw new DeviceNotFoundException(message);
                notice?.Invoke($"{message}; passing over it");
            }
            throw new DeviceNotFoundException("no device here can run SoftmaxGpu's kernels");
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    private static readonly Lock SoonGate = new();
    private static (string Device, Task<Context?> Host)? soon;

    /// <summary>
    /// Starts deciding, on another thread, whether <see cref="Open"/> with <paramref name="device"/> will run the host
    /// engine, and building its context where it will (ILGPU's CPU accelerator: ≈ 0.1 s), so that a short run's
    /// start-up overlaps reading its data; <see cref="Open"/> takes it. A GPU's context is built by Open itself, on
    /// the thread that uses it. Once at a time: a second call before Open takes the first does nothing.
    /// </summary>
    public static void OpenSoon(string device)
    {
        lock (SoonGate)
            soon ??= (device, Task.Run(() => Backends.OpensHost(device) ? Backends.CreateHostContext() : null));
    }

    /// <summary>
    /// The host engine's context <see cref="OpenSoon"/> built, where <paramref name="device"/> opens the host engine as
    /// the device it was told did (the same name, or "host" asked for by name); else null, and Open decides as ever
    /// (a context built for nothing is disposed; one whose building failed fails again there, with Open's message).
    /// </summary>
    private static Context? TakeSoon(string device)
    {
        (string Device, Task<Context?> Host)? taken;
        lock (SoonGate)
            (taken, soon) = (soon, null);
        if (taken is not { } told)
            return null;
        Context? context;
        try
        {
            context = told.Host.GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            return null; // Open's own attempt says why
        }
        if (context is null)
            return null;
        if (string.Equals(told.Device, device, StringComparison.OrdinalIgnoreCase)
            || string.Equals(device, Backends.Host.Name, StringComparison.OrdinalIgnoreCase))
            return context;
        context.Dispose();
        return null;
    }

    /// <summary>The backend's device for a rank: of the node's devices of the candidate's kind (type, GPU or not), number
    /// local rank mod G.</summary>
    private static Device ForRank(Context context, Device candidate, int localRank)
    {
        if (localRank == 0)
            return candidate;
        Device[] alike = context.Devices
            .Where(d => d.AcceleratorType == candidate.AcceleratorType && Backends.IsGpu(d) == Backends.IsGpu(candidate)).ToArray();
        return alike[Distributed.Launch.DeviceIndex(localRank, alike.Length)];
    }

    /// <summary>Uses an accelerator someone else owns (the tests' fixtures); disposing leaves it open.</summary>
    /// <param name="backend">The backend row (null: the accelerator's own; <see cref="Backends.Host"/> for the host engine).</param>
    public static Gpu Wrap(Accelerator accelerator, KernelSet kernels, Backend? backend = null) =>
        new(null, accelerator, kernels, backend ?? Backends.All.First(b => b.Type == accelerator.AcceleratorType && !b.Host));

    public void Dispose()
    {
        if (ownedContext is null)
            return;
        Accelerator.Dispose();
        ownedContext.Dispose();
    }
}
