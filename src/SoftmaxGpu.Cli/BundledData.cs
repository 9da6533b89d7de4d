namespace SoftmaxGpu.Cli;

/// <summary>
/// The iris CSV shipped beside the app (and in the tool package) as <c>datasets/iris.csv</c>, so that
/// <c>softmaxgpu train</c> with no arguments works from any folder, not only from the repository root.
/// </summary>
public static class BundledData
{
    /// <summary>The default <c>--data</c>, relative to the current folder and to the app's own folder.</summary>
    public const string Iris = "datasets/iris.csv";

    /// <summary>What <c>--help</c> says the default is.</summary>
    public const string IrisHelp = $"./{Iris} if present, else the iris copy bundled with softmaxgpu";

    /// <summary>
    /// <c>./datasets/iris.csv</c> where it exists (the repository root, or a user's own copy), otherwise the
    /// bundled copy next to the app; a missing bundled copy is left for the CSV reader to report.
    /// </summary>
    public static string IrisPath() =>
        File.Exists(Iris) ? Iris : Path.Combine(AppContext.BaseDirectory, Iris);
}
