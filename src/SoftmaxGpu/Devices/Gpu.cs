using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Devices;

/// <summary>An ILGPU context, one accelerator on it, and the kernels compiled for that accelerator.</summary>
public sealed class Gpu : IDisposable
{
    private readonly Context context;

    private Gpu(Context context, Accelerator accelerator)
    {
        this.context = context;
        Accelerator = accelerator;
        Kernels = new KernelSet(accelerator);
    }

    public Accelerator Accelerator { get; }
    public KernelSet Kernels { get; }
    public Backend Backend => Backends.Of(Accelerator);
    public string Description => Backends.Describe(Accelerator);

    /// <summary>Opens the device named by <paramref name="device"/>: auto, cuda, opencl or cpu.</summary>
    public static Gpu Open(string device = "auto")
    {
        Context context = Backends.CreateContext();
        try
        {
            Device chosen = Backends.Select(context, device);
            return new Gpu(context, chosen.CreateAccelerator(context));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Accelerator.Dispose();
        context.Dispose();
    }
}
