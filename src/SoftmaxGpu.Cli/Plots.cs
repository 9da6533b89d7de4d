using System.Globalization;
using ScottPlot;
using SoftmaxGpu.Data;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Cli;

/// <summary>
/// PNG pictures of a run: training curves (loss above, accuracy below, sharing the epoch axis) and a confusion
/// matrix (a heatmap, true class down the rows, predicted across the columns). Drawn with ScottPlot on
/// SkiaSharp's no-dependencies native build, which reads fonts from /usr/share/fonts and needs no fontconfig;
/// a root without any font there draws no text (.ci/with-opencl installs fonts-dejavu-core for that reason).
/// Files are written whole or not at all (<see cref="AtomicFile"/>).
/// </summary>
public static class Plots
{
    /// <summary>Size of the training-curves picture in pixels.</summary>
    public const int CurvesWidth = 900, CurvesHeight = 760;

    /// <summary>Above this many classes the confusion matrix leaves out the per-cell counts (they no longer fit).</summary>
    public const int MaxClassesWithCounts = 20;

    /// <summary>A run with up to this many epochs marks each epoch's point; a longer one draws lines only.</summary>
    private const int MaxEpochsWithMarkers = 30;

    /// <summary>
    /// The pictures' colours and font, apart from <see cref="Plots"/> so that a command which only checks a --plot
    /// path does not load ScottPlot and SkiaSharp (a field's type is loaded with the class that declares it).
    /// </summary>
    private static class Style
    {
        // One colour per series, the same in both panels: training blue, validation orange, objective grey.
        public static readonly Color TrainColor = Color.FromHex("#1f77b4");
        public static readonly Color ValidationColor = Color.FromHex("#ff7f0e");
        public static readonly Color ObjectiveColor = Color.FromHex("#555555");

        /// <summary>The first of a few common sans-serif families that is installed; null if none is.</summary>
        public static readonly string? SansFamily = new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Open Sans", "Arial" }
            .FirstOrDefault(SkiaSharp.SKFontManager.Default.GetFontFamilies().Contains);
    }

    /// <summary>Throws unless <paramref name="path"/> names a .png file; for the --plot option, checked before any work.</summary>
    public static void CheckPath(string path)
    {
        if (!string.Equals(Path.GetExtension(path), ".png", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"--plot must name a .png file, got '{path}'");
    }

    /// <summary>
    /// Loss (training, validation where present, and the regularized objective where the optimizer reports it)
    /// on the upper panel and accuracy (training, validation) on the lower, against <paramref name="xLabel"/>
    /// ("epoch", "iteration").
    /// </summary>
    public static void TrainingCurves(IReadOnlyList<EpochReport> history, string xLabel, string path)
    {
        CheckPath(path);
        if (history.Count == 0)
            throw new ArgumentException("there is no epoch to plot: the training history is empty");
        double[] x = history.Select(r => (double)r.Epoch).ToArray();
        bool markers = history.Count <= MaxEpochsWithMarkers;

        var loss = new Plot();
        AddSeries(loss, x, history.Select(r => (double?)r.TrainLoss), "training loss", Style.TrainColor, markers, dashed: false);
        AddSeries(loss, x, history.Select(r => r.ValLoss), "validation loss", Style.ValidationColor, markers, dashed: false);
        AddSeries(loss, x, history.Select(r => r.Objective), "objective (loss + L2)", Style.ObjectiveColor, markers, dashed: true);
        loss.Title($"Training curves ({history.Count} {Plural(xLabel, history.Count)})");
        loss.YLabel("loss (cross-entropy)");
        loss.ShowLegend(Alignment.UpperRight);

        var accuracy = new Plot();
        AddSeries(accuracy, x, history.Select(r => (double?)r.TrainAccuracy), "training accuracy", Style.TrainColor, markers, dashed: false);
        AddSeries(accuracy, x, history.Select(r => r.ValAccuracy), "validation accuracy", Style.ValidationColor, markers, dashed: false);
        accuracy.XLabel(xLabel);
        accuracy.YLabel("accuracy");
        accuracy.ShowLegend(Alignment.LowerRight);

        // Both panels over the same epochs, with the same margins, so an epoch lines up across them.
        double pad = Math.Max(0.5, (x[^1] - x[0]) * 0.02);
        foreach (Plot panel in new[] { loss, accuracy })
        {
            panel.Axes.SetLimitsX(x[0] - pad, x[^1] + pad);
            panel.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            UseSansFont(panel);
        }
        loss.Layout.Fixed(new PixelPadding(80, 30, 30, 50));
        accuracy.Layout.Fixed(new PixelPadding(80, 30, 55, 15));
        double lowest = history.Min(r => Math.Min(r.TrainAccuracy, r.ValAccuracy ?? 1));
        accuracy.Axes.SetLimitsY(Math.Max(0, lowest - 0.05), 1.02);

        var panels = new Multiplot(loss);
        panels.AddPlot(accuracy);
        WritePng(panels.Render(CurvesWidth, CurvesHeight), path);
    }

    /// <summary>
    /// confusion[t, p] rows of true class t predicted as p, as a heatmap: each cell coloured by its share of the
    /// true class's rows (so a rare class's misses show as clearly as a common one's) and labelled with its count
    /// when K ≤ <see cref="MaxClassesWithCounts"/>.
    /// </summary>
    public static void ConfusionMatrix(long[,] confusion, IReadOnlyList<string> classes, string path, string title)
    {
        CheckPath(path);
        int k = classes.Count;
        if (confusion.GetLength(0) != k || confusion.GetLength(1) != k)
            throw new ArgumentException(
                $"the confusion matrix is {confusion.GetLength(0)}x{confusion.GetLength(1)} but there are {k} classes");

        // Row t is drawn at y = K-1-t, so the first class is on top as in the printed report.
        double[,] share = RowShares(confusion, k);
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(share);
        heatmap.Colormap = new WhiteToBlue();
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        heatmap.Rectangle = new CoordinateRect(-0.5, k - 0.5, -0.5, k - 0.5); // cell (t, p) centred on (p, K-1-t)
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = "share of the true class";
        colorBar.LabelStyle.FontName = Style.SansFamily ?? colorBar.LabelStyle.FontName;
        colorBar.Axis.TickLabelStyle.FontName = Style.SansFamily ?? colorBar.Axis.TickLabelStyle.FontName;
        colorBar.LabelStyle.Bold = false;
        colorBar.Axis.SetTicks([0, 0.25, 0.5, 0.75, 1], ["0%", "25%", "50%", "75%", "100%"]);
        if (k <= MaxClassesWithCounts)
            AddCounts(plot, confusion, share, k);
        NameClasses(plot, classes);
        plot.Axes.SetLimits(-0.5, k - 0.5, -0.5, k - 0.5);
        plot.HideGrid();
        plot.Title(title);
        UseSansFont(plot);

        int side = Math.Clamp(200 + 45 * k, 560, 1400);
        WritePng(plot.GetImage(side + 140, side), path);
    }

    /// <summary>
    /// A path over C (or weight decay): each value's mean held-out score over the folds (on a log axis of the value)
    /// with its spread as error bars, and a line at the chosen value.
    /// </summary>
    /// <param name="multiLabel">Whether the score is over tag sets (accuracy: subset accuracy).</param>
    public static void CrossValidation(PathResult path, bool multiLabel, string file)
    {
        CheckPath(file);
        double[] x = [.. path.Points.Select(p => Math.Log10(p.Value))];
        string penalty = path.Penalty.Name();
        double[] mean = [.. path.Points.Select(p => p.Mean)];
        string score = path.Score.Name(multiLabel);
        var plot = new Plot();
        int folds = path.Points[0].Scores.Length; // 1: a validation set, one score a value and no spread
        var line = plot.Add.Scatter(x, mean, Style.TrainColor);
        line.LineWidth = 2;
        line.MarkerSize = 6;
        line.LegendText = folds > 1 ? $"mean held-out {score} over {folds} folds" : $"{score} on the validation rows";
        if (folds > 1)
        {
            var bars = plot.Add.ErrorBar(x, mean, [.. path.Points.Select(p => p.Spread)]);
            bars.Color = Style.TrainColor;
        }
        var chosen = plot.Add.VerticalLine(Math.Log10(path.Chosen), 2, Style.ValidationColor);
        chosen.LegendText = $"chosen {penalty} = {path.Chosen:G4}";
        chosen.LinePattern = LinePattern.Dashed;
        (double[] ticks, string[] labels) = Ticks(x, [.. path.Points.Select(p => p.Value)]);
        plot.Axes.Bottom.SetTicks(ticks, labels);
        plot.XLabel($"{penalty} (log scale)");
        plot.YLabel(score);
        plot.Title(folds > 1 ? $"Choosing {penalty} by {folds}-fold cross-validation" : $"Choosing {penalty} on a validation set");
        plot.ShowLegend(path.Score == PathScore.Accuracy ? Alignment.LowerRight : Alignment.UpperRight);
        UseSansFont(plot);
        WritePng(plot.GetImage(CurvesWidth, CurvesHeight / 2 + 120), file);
    }

    /// <summary>
    /// The log axis's ticks: one a value where they fit (at most 12), else one a power of ten from the first value's to the
    /// last's (a range of 1,000 values would print 1,000 labels over each other).
    /// </summary>
    private static (double[] At, string[] Labels) Ticks(double[] log10, double[] values)
    {
        if (values.Length <= 12)
            return (log10, TrainSummary.Labels(values));
        int first = (int)Math.Ceiling(log10.Min() - 1e-9), last = (int)Math.Floor(log10.Max() + 1e-9); // a range's ends, rounded
        int step = Math.Max(1, (last - first + 11) / 12);
        int[] decades = [.. Enumerable.Range(0, (last - first) / step + 1).Select(i => first + i * step)];
        return ([.. decades.Select(d => (double)d)], [.. decades.Select(d => $"1e{d}")]);
    }

    /// <summary>share[t, p] = confusion[t, p] / Σ_p confusion[t, p]: the recall row by row; an empty row stays 0.</summary>
    private static double[,] RowShares(long[,] confusion, int k)
    {
        var share = new double[k, k];
        for (int t = 0; t < k; t++)
        {
            long total = 0;
            for (int p = 0; p < k; p++)
                total += confusion[t, p];
            for (int p = 0; p < k; p++)
                share[t, p] = total == 0 ? 0 : (double)confusion[t, p] / total;
        }
        return share;
    }

    /// <summary>Class names on both axes: predicted along the bottom, true down the left (first class on top).</summary>
    private static void NameClasses(Plot plot, IReadOnlyList<string> classes)
    {
        int k = classes.Count;
        double[] positions = Enumerable.Range(0, k).Select(i => (double)i).ToArray();
        plot.Axes.Bottom.SetTicks(positions, classes.ToArray());
        plot.Axes.Left.SetTicks(positions, classes.Reverse().ToArray());
        // Names that would run into each other across the bottom are turned upright, with room made for them
        // (ScottPlot sizes the axis as if they were horizontal).
        int longest = classes.Max(c => c.Length);
        if (longest * k > 60)
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = -90;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
            plot.Axes.Bottom.MinimumSize = 40 + 8 * longest;
        }
        plot.XLabel("predicted class");
        plot.YLabel("true class");
    }

    private static void AddCounts(Plot plot, long[,] confusion, double[,] share, int k)
    {
        float size = Math.Clamp(200f / k, 10, 22);
        for (int t = 0; t < k; t++)
        {
            for (int p = 0; p < k; p++)
            {
                var text = plot.Add.Text(confusion[t, p].ToString(CultureInfo.InvariantCulture), p, k - 1 - t);
                text.LabelFontSize = size;
                text.LabelAlignment = Alignment.MiddleCenter;
                // Dark cells get white digits, light cells black, empty cells grey so the mistakes stand out.
                text.LabelFontColor = share[t, p] > 0.5 ? Colors.White : confusion[t, p] == 0 ? Colors.Gray : Colors.Black;
                text.LabelFontName = Style.SansFamily ?? text.LabelFontName;
                text.LabelBold = share[t, p] > 0 && t == p;
            }
        }
    }

    private static void AddSeries(Plot plot, double[] x, IEnumerable<double?> values, string label, Color color,
        bool markers, bool dashed)
    {
        double?[] y = values.ToArray();
        // A series is drawn only where it has values (validation is absent without a validation set).
        double[] xs = x.Where((_, i) => y[i] is { } v && double.IsFinite(v)).ToArray();
        double[] ys = y.Where(v => v is { } f && double.IsFinite(f)).Select(v => v!.Value).ToArray();
        if (xs.Length == 0)
            return;
        var scatter = plot.Add.Scatter(xs, ys, color);
        scatter.LegendText = label;
        scatter.LineWidth = 2;
        scatter.MarkerSize = markers || xs.Length == 1 ? 6 : 0;
        if (dashed)
            scatter.LinePattern = LinePattern.Dashed;
    }

    /// <summary>ScottPlot's Blues turned round: white for none of the class's rows, dark blue for all of them.</summary>
    private sealed class WhiteToBlue : IColormap
    {
        private readonly ScottPlot.Colormaps.Blues blues = new();

        public string Name => "white to blue";

        public Color GetColor(double position) => blues.GetColor(1 - position);
    }

    private static string Plural(string noun, int count) => count == 1 || noun.EndsWith('s') ? noun : noun + "s";

    /// <summary>
    /// A sans-serif face where one is installed: ScottPlot's own choice falls back to the first face the font
    /// manager lists (DejaVu Serif on Debian), which reads worse in small tick labels.
    /// </summary>
    private static void UseSansFont(Plot plot)
    {
        if (Style.SansFamily is not null)
            plot.Font.Set(Style.SansFamily);
    }

    private static void WritePng(Image image, string path)
    {
        byte[] png = image.GetImageBytes(ImageFormat.Png, 100);
        AtomicFile.Write(path, stream => stream.Write(png));
    }
}
