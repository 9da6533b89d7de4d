using System.CommandLine;
using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels;

namespace SoftmaxGpu.Cli;

/// <summary>
/// <c>softmaxgpu devices</c>: each backend's device with its limits as the opened accelerator reports them
/// (the same figures <c>train</c> and <c>bench</c> print), what our kernels take of them, and whether every
/// kernel compiles there; or why the backend is absent.
/// </summary>
public static class DevicesCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("devices", $"List the accelerators ({string.Join(", ", Backends.Names)}); --device auto tries {string.Join(", then ", Backends.Auto.Select(b => b.Name))} (an OpenCL device only if it is a GPU).");
        command.SetAction(_ => App.Guard(error, () =>
        {
            using Context context = Backends.CreateContext();
            bool chosen = false;
            foreach (DeviceInfo info in Backends.Discover(context))
            {
                if (info.Device is not Device device)
                {
                    output.WriteLine($"{info.Backend.Name,-7} absent: {info.Missing}");
                    continue;
                }
                using Accelerator accelerator = device.CreateAccelerator(context);
                var kernels = new KernelSet(accelerator);
                string? why = Backends.WhyUnusable(accelerator, kernels);
                bool autoTries = Backends.AutoTries(info);
                string mark = why is not null ? $"  cannot run our kernels ({why}): auto passes it over"
                    : chosen || !autoTries ? "" : "  <- auto picks this";
                chosen |= why is null && autoTries;
                if (info.Backend.Host)
                {
                    output.WriteLine($"{Backends.Describe(info.Backend, accelerator)}; small kernels (optimizer steps) on " +
                                     $"ILGPU's CPU accelerator{mark}");
                    continue;
                }
                LaunchShape shape = kernels.Shape;
                output.WriteLine($"{Backends.Describe(info.Backend, accelerator)}, shared memory/group " +
                                 $"{accelerator.MaxSharedMemoryPerGroup / 1024} KiB; our kernels: groups of up to {shape.MaxGroup}, " +
                                 $"{shape.SharedFloats * sizeof(float) / 1024} KiB shared, " +
                                 $"{(shape.Portable ? "OpenCL variant (no shuffles, static shared memory)" : "warp shuffles")}{mark}");
            }
            return 0;
        }));
        return command;
    }
}
