using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Devices;

/// <summary>One accelerator and the kernels compiled for it (loaded once, kept for the process).</summary>
public sealed class Gpu : IDisposable
{
    private readonly Context? ownedContext;

    private Gpu(Context? ownedContext, Accelerator accelerator, KernelSet kernels)
    {
        this.ownedContext = ownedContext;
        Accelerator = accelerator;
        Kernels = kernels;
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
            Accelerator accelerator = Backends.Select(context, device).CreateAccelerator(context);
            return new Gpu(context, accelerator, new KernelSet(accelerator));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Uses an accelerator someone else owns (the tests' fixtures); disposing leaves it open.</summary>
    public static Gpu Wrap(Accelerator accelerator, KernelSet kernels) => new(null, accelerator, kernels);

    public void Dispose()
    {
        if (ownedContext is null)
            return;
        Accelerator.Dispose();
        ownedContext.Dispose();
    }
}
