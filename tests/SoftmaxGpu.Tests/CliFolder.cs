using SoftmaxGpu.Cli;

namespace SoftmaxGpu.Tests;

/// <summary>
/// A temporary folder for tests that drive the console app through its entry point, as a user would type it:
/// files written into the folder, <see cref="Run"/> with the arguments, exit code and both streams back.
/// </summary>
public abstract class CliFolder(string prefix) : IDisposable
{
    protected string Folder { get; } = Directory.CreateTempSubdirectory(prefix).FullName;

    protected string PathOf(string name) => Path.Combine(Folder, name);

    protected string Write(string name, string text)
    {
        File.WriteAllText(PathOf(name), text);
        return PathOf(name);
    }

    /// <summary>The CLI as a command of its own process: the dotnet host and the built SoftmaxGpu.Cli.dll beside the tests.</summary>
    protected static string[] CliCommand =>
        [Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", Path.Combine(AppContext.BaseDirectory, "SoftmaxGpu.Cli.dll")];

    protected static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = App.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    public void Dispose()
    {
        Directory.Delete(Folder, recursive: true);
        GC.SuppressFinalize(this);
    }
}
