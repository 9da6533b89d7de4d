using System.CommandLine;
using System.CommandLine.Help;
using ILGPU.Runtime;
using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Cli;

/// <summary>
/// The <c>softmaxgpu</c> command line: train, predict, evaluate, convert, export, devices, bench, ptx. Results go
/// to standard output, the device line and errors to standard error. Exit code 0 on success, 1 on any error.
/// </summary>
public static class App
{
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        // A Command named for the installed tool, not a RootCommand, which takes the entry assembly's name
        // (SoftmaxGpu.Cli) for its usage line; so it adds the RootCommand's --help and --version itself.
        var root = new Command("softmaxgpu", "SoftmaxGpu: softmax regression (multinomial logistic regression) trained on the GPU with ILGPU.")
        {
            new HelpOption(),
            new VersionOption(),
            TrainCommand.Create(output, error),
            PredictCommand.Create(output, error),
            EvaluateCommand.Create(output, error),
            ConvertCommand.Create(output, error),
            ExportCommand.Create(output, error),
            DevicesCommand.Create(output),
            BenchCommand.Create(output, error),
            PtxCommand.Create(output, error),
        };
        return root.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
    }

    /// <summary>--device, shared by every command that runs kernels.</summary>
    public static Option<string> DeviceOption() => new("--device")
    {
        Description = $"Accelerator: auto (tries {string.Join(", then ", Backends.Auto.Select(b => b.Name))}; opencl only if it is a GPU) or one of: {string.Join(", ", Backends.Names)}.",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary>Opens the device and says on standard error which one runs.</summary>
    public static Gpu OpenDevice(string device, TextWriter error)
    {
        Gpu gpu = Gpu.Open(device, notice => error.WriteLine($"notice: {notice}"));
        error.WriteLine($"device: {gpu.Description}");
        return gpu;
    }

    /// <summary>Runs a command body; a user-facing failure becomes one "error:" line and exit code 1.</summary>
    /// <param name="where">Put before the message (one rank of several: "rank r: ").</param>
    public static int Guard(TextWriter error, Func<int> body, string where = "")
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is DataFormatException or ArgumentException or DeviceNotFoundException
                                       or TrainingDivergedException or IOException or UnauthorizedAccessException
                                       or AcceleratorException)
        {
            error.WriteLine($"error: {where}{e.Message}");
            return 1;
        }
    }
}
