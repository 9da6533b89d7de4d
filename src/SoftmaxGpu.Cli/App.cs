using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using ILGPU.Runtime;
using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Cli;

/// <summary>
/// The <c>softmaxgpu</c> command line: train, predict, evaluate, convert, export, devices, bench, ptx. Results go
/// to standard output, the device line and errors to standard error, each error one "error:" line (a command line
/// that does not parse too: <see cref="ParseErrors"/>). Exit code 0 on success, 1 on any error, 130 when Ctrl-C
/// stopped it (<see cref="Interrupts"/>).
/// </summary>
public static class App
{
    /// <summary>The exit code of a command stopped by Ctrl-C (128 + SIGINT), as a shell reports it.</summary>
    public const int Interrupted = 130;

    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        ParseResult parse = Root(output, error).Parse(args);
        if (parse.Action is ParseErrorAction) // not with --help or --version, which go first
            return ParseErrors.Report(parse, error);
        try
        {
            // Every command guards its own body; this catches what happens around one (and System.CommandLine's
            // own handler, which prints a stack trace, is off).
            return Guard(error, () => parse.Invoke(new InvocationConfiguration
            {
                Output = output,
                Error = error,
                EnableDefaultExceptionHandler = false,
            }));
        }
        catch (OperationCanceledException)
        {
            return Interrupted; // a write abandoned on a signal; the Interrupts handler says so and ends the process
        }
    }

    /// <summary>The command tree, each command writing to <paramref name="output"/> and <paramref name="error"/>.</summary>
    public static Command Root(TextWriter output, TextWriter error) =>
        // A Command named for the installed tool, not a RootCommand, which takes the entry assembly's name
        // (SoftmaxGpu.Cli) for its usage line; so it adds the RootCommand's --help and --version itself.
        new("softmaxgpu", "SoftmaxGpu: softmax regression (multinomial logistic regression) trained on the GPU with ILGPU.")
        {
            new HelpOption(),
            new VersionOption(),
            TrainCommand.Create(output, error),
            PredictCommand.Create(output, error),
            EvaluateCommand.Create(output, error),
            ConvertCommand.Create(output, error),
            ExportCommand.Create(output, error),
            DevicesCommand.Create(output, error),
            BenchCommand.Create(output, error),
            PtxCommand.Create(output, error),
        };

    /// <summary>--device, shared by every command that runs kernels.</summary>
    public static Option<string> DeviceOption() => new("--device")
    {
        Description = $"Accelerator: auto (tries {string.Join(", then ", Backends.Auto.Select(b => b.Name))}; opencl only if it is a GPU) or one of: {string.Join(", ", Backends.Names)}.",
        DefaultValueFactory = _ => "auto",
    };

    /// <summary>
    /// The device that predicts <paramref name="source"/>, said on standard error: sparse rows are predicted by the
    /// host engine's sparse pass (<see cref="Training.SparsePrediction"/>) whatever --device names.
    /// </summary>
    public static Gpu OpenDevice(string device, TextWriter error, Training.IRowSource source)
    {
        return source is Training.SparseRowSource ? OpenHostForSparseRows(error) : OpenDevice(device, error);
    }

    /// <summary>The host engine, which predicts sparse rows whatever --device, saying so on standard error.</summary>
    public static Gpu OpenHostForSparseRows(TextWriter error)
    {
        error.WriteLine($"engine: {Training.SparseTraining.HostEngine} (sparse rows are predicted on the host whatever --device)");
        return Gpu.Open("host");
    }

    /// <summary>Opens the device and says on standard error which one runs.</summary>
    public static Gpu OpenDevice(string device, TextWriter error)
    {
        Gpu gpu = Gpu.Open(device, notice => error.WriteLine($"notice: {notice}"));
        error.WriteLine($"device: {gpu.Description}");
        return gpu;
    }

    /// <summary>
    /// Runs a command body; any failure becomes one "error:" line on <paramref name="error"/> and exit code 1, never
    /// a stack trace. A cancellation (an interrupt) is not a failure and passes through.
    /// </summary>
    /// <param name="where">Put before the message (one rank of several: "rank r: ").</param>
    public static int Guard(TextWriter error, Func<int> body, string where = "")
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            error.WriteLine($"error: {where}{Describe(e)}");
            return 1;
        }
    }

    /// <summary>
    /// An exception as one line: its message where the library or .NET throws it to tell the user something (bad
    /// data or options, a missing device or file, a limitation), else the message and "(internal error: its type;
    /// please report)".
    /// </summary>
    public static string Describe(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } or System.Reflection.TargetInvocationException
               && e.InnerException is not null)
            e = e.InnerException;
        string message = string.Join("; ", e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        bool userFacing = e is DataFormatException or ArgumentException or DeviceNotFoundException
            or TrainingDivergedException or IOException or UnauthorizedAccessException or AcceleratorException
            or NotSupportedException or OutOfMemoryException or DllNotFoundException or EntryPointNotFoundException;
        return userFacing ? message : $"{message} (internal error: {e.GetType().Name}; please report)";
    }
}
