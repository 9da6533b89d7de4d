using System.CommandLine;
using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Devices;

namespace SoftmaxGpu.Cli;

/// <summary><c>softmaxgpu devices</c>: each backend's device with its limits, or why it is absent.</summary>
public static class DevicesCommand
{
    public static Command Create(TextWriter output)
    {
        var command = new Command("devices", $"List the accelerators, in the order --device auto tries them ({string.Join(", ", Backends.Names)}).");
        command.SetAction(_ =>
        {
            using Context context = Backends.CreateContext();
            bool chosen = false;
            foreach (DeviceInfo info in Backends.Discover(context))
            {
                if (info.Device is not Device d)
                {
                    output.WriteLine($"{info.Backend.Name,-7} absent: {info.Missing}");
                    continue;
                }
                string mark = chosen ? "" : "  <- auto picks this";
                chosen = true;
                output.WriteLine($"{info.Backend.Name,-7} {d.Name}: memory {Backends.Memory(d)}, {d.NumMultiprocessors} multiprocessors, " +
                                 $"warp {d.WarpSize}, max group {d.MaxNumThreadsPerGroup}, " +
                                 $"shared memory/group {d.MaxSharedMemoryPerGroup / 1024} KiB{mark}");
            }
            return 0;
        });
        return command;
    }
}
