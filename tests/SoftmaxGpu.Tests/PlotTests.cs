using System.Buffers.Binary;
using SkiaSharp;
using SoftmaxGpu.Cli;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// The pictures: each one a PNG of the stated size with something drawn, text included (a root without fonts in
/// /usr/share/fonts draws plots with no text at all, and only <see cref="TheWordsAreDrawn"/> notices). Set
/// SOFTMAXGPU_PLOTS_DIR to a folder to keep a copy of every picture for a look.
/// </summary>
public sealed class PlotTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("softmaxgpu-plot-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string PathOf(string name) => Path.Combine(folder, name);

    /// <summary>A made-up run: loss falling like 1/epoch towards a floor, accuracy rising; validation a little worse.</summary>
    private static List<EpochReport> History(int epochs, bool validation, bool objective)
    {
        var random = new Random(39);
        return Enumerable.Range(1, epochs).Select(e =>
        {
            double loss = 0.25 + 0.9 / e + 0.01 * random.NextDouble();
            double accuracy = 1 - 0.6 * loss;
            return new EpochReport(e, epochs, loss, accuracy, validation ? loss + 0.04 + 0.002 * e : null,
                validation ? accuracy - 0.03 : null, TimeSpan.FromMilliseconds(10 * e))
            {
                Objective = objective ? loss + 0.05 : null,
            };
        }).ToList();
    }

    [Theory]
    [InlineData("curves-validation.png", 50, true, false)]
    [InlineData("curves-no-validation.png", 50, false, true)]
    [InlineData("curves-short.png", 7, true, false)]
    [InlineData("curves-one-epoch.png", 1, false, false)]
    public void TrainingCurvesWriteAPicture(string name, int epochs, bool validation, bool objective)
    {
        string path = PathOf(name);
        Plots.TrainingCurves(History(epochs, validation, objective), objective ? "iteration" : "epoch", path);
        CheckPicture(path, Plots.CurvesWidth, Plots.CurvesHeight).Dispose();
    }

    [Theory]
    [InlineData("confusion-3.png", 3)]
    [InlineData("confusion-10.png", 10)]
    [InlineData("confusion-26.png", 26)]
    public void ConfusionMatrixWritesAPicture(string name, int k)
    {
        // Mostly right, with a few seeded mistakes and one class never present (an empty row).
        var random = new Random(42);
        var confusion = new long[k, k];
        for (int t = 0; t < k - 1; t++)
            for (int p = 0; p < k; p++)
                confusion[t, p] = t == p ? 80 + random.Next(40) : random.Next(10) < 7 ? 0 : random.Next(1, 15);
        string[] classes = Enumerable.Range(0, k).Select(c => k > 10 ? $"class-{c}" : $"{c}").ToArray();
        string path = PathOf(name);
        Plots.ConfusionMatrix(confusion, classes, path, $"{k} classes");
        using SKBitmap bitmap = CheckPicture(path, null, null);
        Assert.Equal(140, bitmap.Width - bitmap.Height);
    }

    [Fact]
    public void TheWordsAreDrawn()
    {
        // Pictures that differ only in their words differ in their pixels, unless no text is drawn at all.
        Plots.TrainingCurves(History(5, true, false), "epoch", PathOf("a.png"));
        Plots.TrainingCurves(History(5, true, false), "iteration", PathOf("b.png"));
        Plots.ConfusionMatrix(new long[,] { { 5, 1 }, { 0, 4 } }, ["a", "b"], PathOf("c.png"), "one title");
        Plots.ConfusionMatrix(new long[,] { { 5, 1 }, { 0, 4 } }, ["a", "b"], PathOf("d.png"), "another title");
        string hint = "the text is missing: are there fonts in /usr/share/fonts (fonts-dejavu-core)?";
        Assert.False(File.ReadAllBytes(PathOf("a.png")).SequenceEqual(File.ReadAllBytes(PathOf("b.png"))), hint);
        Assert.False(File.ReadAllBytes(PathOf("c.png")).SequenceEqual(File.ReadAllBytes(PathOf("d.png"))), hint);
    }

    [Fact]
    public void EvaluateDrawsTheConfusionMatrix()
    {
        string model = PathOf("iris.model");
        var train = Cli("train", "--data", Check.IrisPath, "--model", model, "--epochs", "30", "--device", "cpu");
        Assert.True(train.Code == 0, train.Err);
        string plot = PathOf("confusion-iris.png");
        var evaluate = Cli("evaluate", "--model", model, "--data", Check.IrisPath, "--device", "cpu", "--json", "--plot", plot);
        Assert.True(evaluate.Code == 0, evaluate.Err);
        Assert.Contains($"plot: {plot}", evaluate.Err);
        System.Text.Json.JsonDocument.Parse(evaluate.Out).Dispose();
        CheckPicture(plot, null, null).Dispose();
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
    }

    [Fact]
    public void APathThatIsNotPngIsRejectedByName()
    {
        var curves = Assert.Throws<ArgumentException>(() => Plots.TrainingCurves(History(3, false, false), "epoch", PathOf("c.jpg")));
        Assert.Contains("--plot must name a .png file", curves.Message);
        var confusion = Assert.Throws<ArgumentException>(() =>
            Plots.ConfusionMatrix(new long[2, 2], ["a", "b"], PathOf("c"), "t"));
        Assert.Contains("--plot", confusion.Message);

        // evaluate refuses before it loads anything: the model named here does not even exist.
        var evaluate = Cli("evaluate", "--model", PathOf("none.model"), "--data", Check.IrisPath, "--plot", PathOf("c.svg"));
        Assert.Equal(1, evaluate.Code);
        Assert.Contains("--plot must name a .png file", evaluate.Err);
        Assert.Empty(Directory.GetFiles(folder));
    }

    [Fact]
    public void NothingToDrawIsRejected()
    {
        var size = Assert.Throws<ArgumentException>(() => Plots.ConfusionMatrix(new long[2, 3], ["a", "b"], PathOf("c.png"), "t"));
        Assert.Contains("2x3 but there are 2 classes", size.Message);
        var empty = Assert.Throws<ArgumentException>(() => Plots.TrainingCurves([], "epoch", PathOf("e.png")));
        Assert.Contains("history is empty", empty.Message);
        Assert.Empty(Directory.GetFiles(folder));
    }

    private static (int Code, string Out, string Err) Cli(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = App.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>
    /// The file is a PNG (signature, then IHDR with the width and height) that decodes to a picture of that size
    /// with many colours (anti-aliased lines and text; a blank plot has a handful).
    /// </summary>
    private static SKBitmap CheckPicture(string path, int? width, int? height)
    {
        byte[] png = File.ReadAllBytes(path);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], png[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        int w = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), h = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20));
        if (width is not null)
            Assert.Equal((width.Value, height!.Value), (w, h));

        SKBitmap bitmap = SKBitmap.Decode(png);
        Assert.Equal((w, h), (bitmap.Width, bitmap.Height));
        var colours = new HashSet<uint>();
        for (int y = 0; y < h; y += 2)
            for (int x = 0; x < w; x += 2)
                colours.Add((uint)bitmap.GetPixel(x, y));
        Assert.True(colours.Count >= 20, $"{path}: only {colours.Count} colours, the picture is nearly blank");

        string? keep = Environment.GetEnvironmentVariable("SOFTMAXGPU_PLOTS_DIR");
        if (!string.IsNullOrEmpty(keep))
        {
            Directory.CreateDirectory(keep);
            File.Copy(path, Path.Combine(keep, Path.GetFileName(path)), overwrite: true);
        }
        return bitmap;
    }
}
