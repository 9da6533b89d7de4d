using System.Text.Json;
using SoftmaxGpu.Model;
using System.Globalization;
using System.Text.RegularExpressions;

namespace SoftmaxGpu.Tests;

/// <summary>train --C with several values and --cv: the table per C, the chosen C refit, and one clear error per bad grid.</summary>
public sealed partial class CrossValidationCliTests() : CliFolder("softmaxgpu-cv-")
{
    [GeneratedRegex(@"^chosen: C = (\S+) ", RegexOptions.Multiline)]
    private static partial Regex ChosenLine();

    [GeneratedRegex(@"λ = (\S+) \(1/\(C·N\)")]
    private static partial Regex LambdaLine();

    [Fact]
    public void SeveralCValuesAreChosenAmongByCrossValidationAndTheChosenOneIsRefit()
    {
        var (code, output, error) = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--quiet",
            "--C", "1e-2:1e2:5", "--cv", "3", "--select", "log-loss", "--plot", PathOf("path.png"), "--log-json", PathOf("log.json"));
        Assert.True(code == 0, error);
        string[] rows = output.Split('\n').Where(l => Regex.IsMatch(l, @"^\d")).ToArray();
        Assert.Equal(5, rows.Length); // 0.01, 0.1, 1, 10, 100
        Assert.Single(rows, r => r.EndsWith("<- chosen", StringComparison.Ordinal));
        Assert.All(rows, r => Assert.Matches(@"  \d+ \d+ \d+( +<- chosen)?$", r.TrimEnd())); // iterations of the 3 folds
        double chosen = double.Parse(ChosenLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        double lambda = double.Parse(LambdaLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(1 / (chosen * 150), lambda, 1e-5 * lambda); // the refit: every row at the chosen C
        Assert.Contains("lowest mean log-loss over 3 folds", output);
        // The model file keeps how C was chosen: the score, the folds, the chosen C and every C's fold scores.
        SoftmaxModel model = ModelFile.Load(PathOf("m"));
        ModelSelection selection = Assert.IsType<ModelSelection>(model.Selection);
        Assert.Equal(("log-loss", 3), (selection.Score, selection.Folds));
        Assert.Equal(chosen, selection.Chosen, 1e-5 * chosen); // the summary prints 6 digits
        Assert.Equal([0.01, 0.1, 1, 10, 100], selection.Path.Select(r => Math.Round(r.Value, 10)));
        Assert.All(selection.Path, r => Assert.Equal(3, r.Scores.Length));
        Assert.Equal(selection.Chosen, selection.Path.MinBy(r => r.Mean)!.Value); // the lowest mean log-loss
        Assert.Equal(3, File.ReadAllBytes(PathOf("m"))[8]); // version 3: a model with a selection
        byte[] png = File.ReadAllBytes(PathOf("path.png")); // the score against C
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.True(png.Length > 10_000, $"a {png.Length}-byte picture");
        // --log-json: the refit's iterations, then one row per (C, fold): 5 × 3, the chosen C's three marked.
        string[] folds = File.ReadAllLines(PathOf("log.json")).Where(l => l.Contains("\"fold\"", StringComparison.Ordinal)).ToArray();
        Assert.Equal(15, folds.Length);
        Assert.Equal(3, folds.Count(l => l.Contains("\"chosen\":true", StringComparison.Ordinal)));
        Assert.All(folds, l => Assert.Contains("\"val_log_loss\":", l));
        Assert.All(folds, l => Assert.Contains("\"converged\":true", l)); // every fit met its rule: nothing marked, no warning
        Assert.DoesNotContain("*", string.Concat(rows));
        Assert.DoesNotContain("iteration limit", error);
    }

    /// <summary>
    /// --weight-decay with several values chooses λ as --C chooses C: the table from the largest λ down, ties to the
    /// largest, the same λ on every fold; the refit is the single fit at --weight-decay λ (the same objective), and the
    /// model file (version 4) and --log-json say the values were weight decays.
    /// </summary>
    [Fact]
    public void SeveralWeightDecaysAreChosenAmongAsCsAre()
    {
        var (code, output, error) = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--quiet",
            "--weight-decay", "1e-4,1e-2,1", "--cv", "3", "--log-json", PathOf("log.json"));
        Assert.True(code == 0, error);
        Assert.Contains("weight decay chosen among 3 values by 3-fold cross-validation (accuracy)", output);
        Assert.Matches(@"(?m)^weight decay +mean accuracy", output);
        string[] rows = output.Split('\n').Where(l => Regex.IsMatch(l, @"^\d")).ToArray();
        Assert.Equal(["1", "0.01", "0.0001"], rows.Select(r => r.Split(' ')[0])); // the strongest penalty first
        Assert.Contains("the largest weight decay among equals", output);
        Match chosen = Regex.Match(output, @"chosen: weight decay = (\S+) ");
        Assert.True(chosen.Success, output);
        Assert.Contains($"λ = {chosen.Groups[1].Value} (--weight-decay)", output);

        SoftmaxModel model = ModelFile.Load(PathOf("m"));
        ModelSelection selection = Assert.IsType<ModelSelection>(model.Selection);
        Assert.Equal("weight-decay", selection.Parameter);
        Assert.Equal([1, 1e-2, 1e-4], selection.Path.Select(r => Math.Round(r.Value, 9)));
        Assert.Equal(4, File.ReadAllBytes(PathOf("m"))[8]); // version 4: a selection over weight decays
        string[] folds = File.ReadAllLines(PathOf("log.json")).Where(l => l.Contains("\"fold\"", StringComparison.Ordinal)).ToArray();
        Assert.Equal(9, folds.Count(l => l.Contains("\"weight_decay\":", StringComparison.Ordinal)));
        Assert.Contains(folds, l => l.StartsWith("{\"weight_decay\":0.01,", StringComparison.Ordinal)); // λ as given, in float

        // The refit is the single fit at the chosen λ, from zeros: the same objective to the printed digit.
        var single = Run("train", "--data", Check.IrisPath, "--model", PathOf("s"), "--quiet", "--weight-decay", chosen.Groups[1].Value);
        Assert.True(single.Code == 0, single.Err);
        Assert.Equal(Objective(single.Out), Objective(output));
        Assert.Null(ModelFile.Load(PathOf("s")).Selection);
        Assert.Equal(2, File.ReadAllBytes(PathOf("s"))[8]);
    }

    /// <summary>
    /// Without --quiet a search says how far it got as it goes: a line a C once every fold has fitted it, in the grid's
    /// order, before the refit; its mean score is the table's.
    /// </summary>
    [Fact]
    public void ASearchShowsEachCAsItsFoldsAreFitted()
    {
        var (code, output, error) = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--C", "1e-2:1e2:5", "--cv", "3");
        Assert.True(code == 0, error);
        string[] lines = output.Split('\n');
        string[] progress = [.. lines.Where(l => l.StartsWith("path: ", StringComparison.Ordinal))];
        Assert.Equal(5, progress.Length);
        string[] rows = [.. lines.Where(l => Regex.IsMatch(l, @"^\d"))];
        for (int i = 0; i < 5; i++)
        {
            Assert.Matches($@"^path: C = \S+ \({i + 1} of 5\)  mean accuracy (\d\.\d{{4}}) over 3 folds, \d+(–\d+)? iterations  \d+\.\d s$", progress[i]);
            string mean = Regex.Match(progress[i], @"accuracy (\d\.\d{4})").Groups[1].Value;
            Assert.Equal(mean, rows[i].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]); // the table's mean at that C
        }
        Assert.True(Array.IndexOf(lines, progress[^1]) < Array.FindIndex(lines, l => l.StartsWith("epoch", StringComparison.Ordinal)),
            "the search's lines come before the refit's epochs");
        var (quietCode, quiet, _) = Run("train", "--data", Check.IrisPath, "--model", PathOf("m2"), "--C", "0.1,1", "--cv", "3", "--quiet");
        Assert.Equal(0, quietCode);
        Assert.DoesNotContain("path: ", quiet);
    }

    /// <summary>Fits that stop at the iteration cap are marked in the table, counted in one warning and logged as not converged.</summary>
    [Fact]
    public void FitsThatHitTheIterationCapAreMarkedAndWarnedOf()
    {
        var (code, output, error) = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--quiet", "--optimizer", "lbfgs",
            "--epochs", "3", "--C", "0.1,10", "--cv", "3", "--log-json", PathOf("log.json"));
        Assert.True(code == 0, error);
        string[] rows = output.Split('\n').Where(l => Regex.IsMatch(l, @"^\d")).ToArray();
        Assert.Equal(2, rows.Length);
        Assert.All(rows, r => Assert.Matches(@"  3\* 3\* 3\*( +<- chosen)?$", r.TrimEnd()));
        Assert.Contains("warning: 6 of 6 fits (marked *; C = 0.1, 10) stopped at the iteration limit", error);
        string[] folds = File.ReadAllLines(PathOf("log.json")).Where(l => l.Contains("\"fold\"", StringComparison.Ordinal)).ToArray();
        Assert.Equal(6, folds.Length);
        Assert.All(folds, l => Assert.Contains("\"converged\":false", l));
    }

    [Fact]
    public void SeveralCValuesAreChosenAmongOnAValidationSplit()
    {
        var (code, output, error) = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--quiet",
            "--C", "0.01,1,100", "--val-fraction", "0.3");
        Assert.True(code == 0, error);
        string[] rows = output.Split('\n').Where(l => Regex.IsMatch(l, @"^\d")).ToArray();
        Assert.Equal(3, rows.Length);
        Assert.All(rows, r => Assert.Matches(@"  \d+( +<- chosen)?$", r.TrimEnd())); // one fit per C: no folds
        Assert.Contains("accuracy on the validation rows", output);
        Assert.Contains("C chosen among 3 values by the 45 validation rows", output);
        double chosen = double.Parse(ChosenLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        double lambda = double.Parse(LambdaLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(1 / (chosen * 105), lambda, 1e-5 * lambda); // fitted on the 105 training rows
        ModelSelection selection = Assert.IsType<ModelSelection>(ModelFile.Load(PathOf("m")).Selection);
        Assert.Equal(("accuracy", 0, 3), (selection.Score, selection.Folds, selection.Path.Count));
        Assert.Equal(chosen, selection.Chosen, 1e-5 * chosen);
        Assert.All(selection.Path, r => Assert.Single(r.Scores));

        // One C: no selection, and the file stays version 2, as before selections were kept.
        Assert.Equal(0, Run("train", "--data", Check.IrisPath, "--model", PathOf("one"), "--quiet", "--C", "0.5").Code);
        Assert.Null(ModelFile.Load(PathOf("one")).Selection);
        Assert.Equal(2, File.ReadAllBytes(PathOf("one"))[8]);
    }

    /// <summary>
    /// A dense .sgd file chooses C read in blocks: the note says how, the model keeps the choice, and it is the choice and
    /// the fold scores the CSV it was converted from gives.
    /// </summary>
    [Fact]
    public void SeveralCValuesAreChosenAmongByCrossValidationOnADenseSgdFile()
    {
        Assert.Equal(0, Run("convert", "--data", Check.IrisPath, "--out", PathOf("iris.sgd"), "--block-rows", "16").Code);
        var (code, output, error) = Run("train", "--data", PathOf("iris.sgd"), "--model", PathOf("m"), "--quiet", "--C", "0.1,1", "--cv", "3");
        Assert.True(code == 0, error);
        Assert.Contains("150 rows, 4 features (read in blocks of 16); C chosen among 2 values by 3-fold cross-validation (accuracy)", output);
        double chosen = double.Parse(ChosenLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        ModelSelection selection = Assert.IsType<ModelSelection>(ModelFile.Load(PathOf("m")).Selection);
        Assert.Equal(("accuracy", 3), (selection.Score, selection.Folds));
        Assert.Equal(chosen, selection.Chosen, 1e-5 * chosen);
        Assert.Equal([0.1, 1], selection.Path.Select(r => r.Value));

        Assert.Equal(0, Run("train", "--data", Check.IrisPath, "--model", PathOf("csv"), "--quiet", "--C", "0.1,1", "--cv", "3").Code);
        ModelSelection fromCsv = ModelFile.Load(PathOf("csv")).Selection!;
        Assert.Equal(fromCsv.Chosen, selection.Chosen);
        Assert.Equal(fromCsv.Path.SelectMany(r => r.Scores), selection.Path.SelectMany(r => r.Scores));
    }

    [GeneratedRegex(@"λ = (\S+) \(1/\(C·Σw\) with C = \S+ and Σw = (\S+) ")]
    private static partial Regex WeightedLambdaLine();

    /// <summary>
    /// Weighted rows (probability targets and sample weights from their columns; class weights; smoothing) choose C by
    /// folds that each fit their rows as a single weighted fit on them; the refit's λ is 1/(C·Σw) over every row.
    /// </summary>
    [Theory]
    [InlineData("--target-columns|p0,p1,p2|--weight-column|w")]
    [InlineData("--class-weight|balanced|--label|species")]
    [InlineData("--label-smoothing|0.1|--label|species")]
    public void WeightedOrSmoothedRowsChooseC(string given)
    {
        string data = given.Contains("--target-columns") ? Path.Combine(AppContext.BaseDirectory, "data", "iris-soft-weighted.csv") : Check.IrisPath;
        var (code, output, error) = Run(["train", "--data", data, "--model", PathOf("m"), "--quiet", "--C", "0.1,1,10", "--cv", "3",
            .. given.Split('|')]);
        Assert.True(code == 0, error);
        Assert.Contains("C chosen among 3 values by 3-fold cross-validation (accuracy)", output);
        Assert.Equal(3, output.Split('\n').Count(l => Regex.IsMatch(l, @"^\d")));
        double chosen = double.Parse(ChosenLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        Match weighted = WeightedLambdaLine().Match(output);
        if (given.Contains("--label-smoothing"))
            Assert.Equal(1 / (chosen * 150), double.Parse(LambdaLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture), 1e-5 / chosen / 150);
        else
            Assert.Equal(1 / (chosen * double.Parse(weighted.Groups[2].Value, CultureInfo.InvariantCulture)),
                double.Parse(weighted.Groups[1].Value, CultureInfo.InvariantCulture), 1e-5 * double.Parse(weighted.Groups[1].Value, CultureInfo.InvariantCulture));
        ModelSelection selection = Assert.IsType<ModelSelection>(ModelFile.Load(PathOf("m")).Selection);
        Assert.Equal(("accuracy", 3), (selection.Score, selection.Folds));
        Assert.Equal(chosen, selection.Chosen, 1e-5 * chosen);
        Assert.Equal(selection.Chosen, selection.Path.MaxBy(r => r.Mean)!.Value);
    }

    /// <summary>Multi-label rows choose C by unstratified folds (subset accuracy or the tags' log-loss), and on a validation split.</summary>
    [Fact]
    public void MultiLabelRowsChooseC()
    {
        string data = Write("tags.csv", MultiLabelCliTests.Data(rows: 90).Tags);
        var (code, output, error) = Run("train", "--data", data, "--multi-label", "--model", PathOf("m"), "--quiet", "--C", "0.01,1,100",
            "--cv", "3", "--select", "log-loss");
        Assert.True(code == 0, error);
        Assert.Contains("multi-label (tags in column 'tags'); C chosen among 3 values by 3-fold cross-validation (log-loss)", output);
        Assert.All(output.Split('\n').Where(l => Regex.IsMatch(l, @"^\d")), r => Assert.Matches(@"  \d+ \d+ \d+( +<- chosen)?$", r.TrimEnd()));
        double chosen = double.Parse(ChosenLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        double lambda = double.Parse(LambdaLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(1 / (chosen * 90), lambda, 1e-5 * lambda);
        SoftmaxModel model = ModelFile.Load(PathOf("m"));
        Assert.True(model.Kind.IsMultiLabel());
        ModelSelection selection = Assert.IsType<ModelSelection>(model.Selection);
        Assert.Equal(("log-loss", 3), (selection.Score, selection.Folds));
        Assert.Equal(chosen, selection.Chosen, 1e-5 * chosen);
        Assert.Equal(selection.Chosen, selection.Path.MinBy(r => r.Mean)!.Value);
        Assert.NotEqual(0.01, selection.Chosen); // the tags are learnable: the strongest penalty is not the best

        // The same rows as a dense .sgd file of tag sets, read in blocks: the same folds and C; the scores as close as two fits
        // to the same optimum (the file's folds fit in sessions, the CSV's on the shared rows: sums in another order).
        Assert.Equal(0, Run("convert", "--data", data, "--multi-label", "--out", PathOf("tags.sgd"), "--block-rows", "16").Code);
        (code, output, error) = Run("train", "--data", PathOf("tags.sgd"), "--multi-label", "--model", PathOf("s"), "--quiet",
            "--C", "0.01,1,100", "--cv", "3", "--select", "log-loss");
        Assert.True(code == 0, error);
        Assert.Contains("(read in blocks of 16), multi-label", output);
        SoftmaxModel fromFile = ModelFile.Load(PathOf("s"));
        Assert.True(fromFile.Kind.IsMultiLabel());
        Assert.Equal(selection.Chosen, fromFile.Selection!.Chosen);
        Check.Close([.. selection.Path.SelectMany(r => r.Scores)], [.. fromFile.Selection.Path.SelectMany(r => r.Scores)], 0, 1e-3,
            "each fold's held-out log-loss at each C, .sgd file vs CSV");

        (code, output, error) = Run("train", "--data", data, "--multi-label", "--model", PathOf("v"), "--quiet", "--C", "0.01,1,100",
            "--val-fraction", "0.3");
        Assert.True(code == 0, error);
        Assert.Contains("C chosen among 3 values by the", output);
        Assert.Contains("(subset accuracy)", output); // a row counts when every tag is right
        // One validation set: its score, no spread over folds.
        Assert.Matches(@"^C +validation subset accuracy  iterations$", output.Split('\n').Single(l => l.StartsWith("C ", StringComparison.Ordinal)).TrimEnd());
        Assert.All(output.Split('\n').Where(l => Regex.IsMatch(l, @"^\d")), r => Assert.Matches(@"^\S+ +[01]\.\d{4}  \d+( +<- chosen)?$", r.TrimEnd()));
        Assert.Contains("highest subset accuracy on the validation rows", output);
        Assert.Equal(("accuracy", 0), (ModelFile.Load(PathOf("v")).Selection!.Score, ModelFile.Load(PathOf("v")).Selection!.Folds));
    }

    /// <summary>
    /// A LIBSVM file of 90 rows × 300 features (about 3 % non-zero) in 3 classes, each class raising its own band of
    /// features: auto keeps it sparse.
    /// </summary>
    private string SparseLibSvm(string name)
    {
        var random = new Random(11);
        var lines = Enumerable.Range(0, 90).Select(r =>
        {
            int label = r % 3;
            int[] columns = [.. Enumerable.Range(1, 300).Where(j => random.NextDouble() < 0.02 || (j % 3 == label && j <= 30 && random.NextDouble() < 0.5))];
            return label + string.Concat(columns.Select(j => FormattableString.Invariant($" {j}:{random.NextDouble() + (j % 3 == label ? 1 : 0):F3}")));
        });
        return Write(name, string.Join("\n", lines) + "\n");
    }

    /// <summary>
    /// Sparse rows choose C kept sparse (no "rows made dense" note): the same table, log rows, plot and model file as
    /// dense rows; and on a validation split.
    /// </summary>
    [Fact]
    public void SparseRowsChooseCWithoutBeingMadeDense()
    {
        string data = SparseLibSvm("s.libsvm");
        var (code, output, error) = Run("train", "--data", data, "--model", PathOf("m"), "--quiet",
            "--C", "0.1,1,10", "--cv", "3", "--plot", PathOf("path.png"), "--log-json", PathOf("log.json"));
        Assert.True(code == 0, error);
        Assert.DoesNotContain("made dense", output);
        Assert.Contains("kept sparse", output);
        Assert.Contains("C chosen among 3 values by 3-fold cross-validation (accuracy)", output);
        Assert.Contains("engine: host engine, sparse rows", output);
        string[] rows = output.Split('\n').Where(l => Regex.IsMatch(l, @"^\d")).ToArray();
        Assert.Equal(3, rows.Length);
        Assert.Single(rows, r => r.EndsWith("<- chosen", StringComparison.Ordinal));
        Assert.All(rows, r => Assert.Matches(@"  \d+ \d+ \d+( +<- chosen)?$", r.TrimEnd()));
        double chosen = double.Parse(ChosenLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        double lambda = double.Parse(LambdaLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(1 / (chosen * 90), lambda, 1e-5 * lambda); // the refit: every row at the chosen C
        SoftmaxModel model = ModelFile.Load(PathOf("m"));
        ModelSelection selection = Assert.IsType<ModelSelection>(model.Selection);
        Assert.Equal(("accuracy", 3), (selection.Score, selection.Folds));
        Assert.Equal(chosen, selection.Chosen, 1e-5 * chosen);
        Assert.Equal([0.1, 1, 10], selection.Path.Select(r => r.Value));
        Assert.Equal(selection.Chosen, selection.Path.MaxBy(r => r.Mean)!.Value);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(PathOf("path.png"))[..4]);
        string[] folds = File.ReadAllLines(PathOf("log.json")).Where(l => l.Contains("\"fold\"", StringComparison.Ordinal)).ToArray();
        Assert.Equal(9, folds.Length);
        Assert.Equal(3, folds.Count(l => l.Contains("\"chosen\":true", StringComparison.Ordinal)));
        Assert.Contains("accuracy", Run("evaluate", "--model", PathOf("m"), "--data", data).Out);

        (code, output, error) = Run("train", "--data", data, "--model", PathOf("v"), "--quiet", "--C", "0.1,1,10", "--val-fraction", "0.3");
        Assert.True(code == 0, error);
        Assert.DoesNotContain("made dense", output);
        Assert.Contains("C chosen among 3 values by the 27 validation rows", output);
        Assert.Single(Regex.Matches(output, "27 validation rows|validation: 27 rows")); // the data line names them once
        Assert.Equal(3, output.Split('\n').Count(l => Regex.IsMatch(l, @"^\d")));
        Assert.Equal(("accuracy", 0), (ModelFile.Load(PathOf("v")).Selection!.Score, ModelFile.Load(PathOf("v")).Selection!.Folds));

        // A sparse .sgd file of the same rows: the same path, kept sparse, to the same chosen C.
        Assert.Equal(0, Run("convert", "--data", data, "--out", PathOf("s.sgd")).Code);
        (code, output, error) = Run("train", "--data", PathOf("s.sgd"), "--model", PathOf("f"), "--quiet", "--C", "0.1,1,10", "--cv", "3");
        Assert.True(code == 0, error);
        Assert.Contains("kept sparse", output);
        Assert.Equal(chosen, ModelFile.Load(PathOf("f")).Selection!.Chosen, 1e-5 * chosen);
    }

    /// <summary>
    /// Class weights and smoothing on sparse rows choose C kept sparse, each fold reweighted as on the same rows made dense
    /// (--sparse off): the same fold scores, chosen C and refit objective.
    /// </summary>
    [Theory]
    [InlineData("--class-weight|balanced")]
    [InlineData("--class-weight|0=3,1=1,2=0.5")]
    [InlineData("--label-smoothing|0.1")]
    public void WeightedSparseRowsChooseCKeptSparseAsMadeDense(string weights)
    {
        string data = SparseLibSvm("s.libsvm");
        string[] path = ["--quiet", "--C", "0.01,0.1,1,10", "--cv", "3", .. weights.Split('|')];
        var sparse = Run(["train", "--data", data, "--model", PathOf("m"), "--log-json", PathOf("m.json"), .. path]);
        Assert.True(sparse.Code == 0, sparse.Err);
        Assert.Contains("kept sparse", sparse.Out);
        Assert.DoesNotContain("made dense", sparse.Out);
        var dense = Run(["train", "--data", data, "--model", PathOf("d"), "--log-json", PathOf("d.json"), "--sparse", "off", .. path]);
        Assert.True(dense.Code == 0, dense.Err);
        ModelSelection kept = ModelFile.Load(PathOf("m")).Selection!, madeDense = ModelFile.Load(PathOf("d")).Selection!;
        Assert.Equal(madeDense.Chosen, kept.Chosen);
        for (int i = 0; i < kept.Path.Count; i++)
            Check.Close(madeDense.Path[i].Scores, kept.Path[i].Scores, 1e-9, 0, $"fold accuracies at C = {kept.Path[i].Value}");
        double[] foldJ = FoldObjectives(PathOf("m.json"));
        Assert.Equal(12, foldJ.Length);
        Check.Close(FoldObjectives(PathOf("d.json")), foldJ, 1e-7, 1e-6, "each fold's J at each C, kept sparse against made dense");
        Check.Close(Objective(dense.Out), Objective(sparse.Out), 0, 1e-6, "the refit's J");
    }

    /// <summary>Each (C, fold) row's J from a path's --log-json, in order.</summary>
    private static double[] FoldObjectives(string log) =>
        [.. File.ReadAllLines(log).Where(l => l.Contains("\"fold\"", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("objective").GetDouble())];

    /// <summary>The refit's J from train's model line.</summary>
    private static double Objective(string output) =>
        double.Parse(Regex.Match(output, @"objective (\d+\.\d+)").Groups[1].Value, CultureInfo.InvariantCulture);

    /// <summary>
    /// Tag lists on sparse rows choose C kept sparse (auto, at 7.5 % density), in seeded folds by row, each fold scored by
    /// its tags: the same fold scores, chosen C and refit objective as the same rows made dense (--sparse off), by subset
    /// accuracy and by log-loss; a sparse .sgd file of the tag sets (convert --multi-label) takes the same path.
    /// </summary>
    [Theory]
    [InlineData("accuracy")]
    [InlineData("log-loss")]
    public void TaggedSparseRowsChooseCKeptSparseAsMadeDense(string select)
    {
        var random = new Random(5); // tag t where feature t is set and above 0.5; 40 features, 3 set a row
        string tagged = Write("t.libsvm", string.Concat(Enumerable.Range(0, 60).Select(_ =>
        {
            int[] set = [.. Enumerable.Range(1, 40).OrderBy(_ => random.Next()).Take(3).Order()];
            double[] x = [.. set.Select(_ => random.NextDouble())];
            string tags = string.Join(',', Enumerable.Range(0, 3).Where(t => set.Contains(t + 1) && x[Array.IndexOf(set, t + 1)] > 0.5));
            return tags + string.Concat(set.Select((j, i) => FormattableString.Invariant($" {j}:{x[i]:F3}"))) + "\n";
        })));
        string[] path = ["--multi-label", "--quiet", "--C", "0.1,1,10", "--cv", "3", "--select", select];
        var sparse = Run(["train", "--data", tagged, "--model", PathOf("t"), "--log-json", PathOf("t.json"), .. path]);
        Assert.True(sparse.Code == 0, sparse.Err);
        Assert.Contains("kept sparse", sparse.Out);
        Assert.DoesNotContain("made dense", sparse.Out);
        Assert.Contains("C chosen among 3 values by 3-fold cross-validation (" + (select == "accuracy" ? "subset accuracy" : "log-loss"), sparse.Out);
        var dense = Run(["train", "--data", tagged, "--model", PathOf("d"), "--log-json", PathOf("d.json"), "--sparse", "off", .. path]);
        Assert.True(dense.Code == 0, dense.Err);
        SoftmaxModel model = ModelFile.Load(PathOf("t"));
        Assert.Equal(ModelKind.MultiLabelTags, model.Kind);
        ModelSelection kept = model.Selection!, madeDense = ModelFile.Load(PathOf("d")).Selection!;
        Assert.Equal((madeDense.Chosen, 3), (kept.Chosen, kept.Folds));
        for (int i = 0; i < kept.Path.Count; i++)
            Check.Close(madeDense.Path[i].Scores, kept.Path[i].Scores, 1e-9, select == "accuracy" ? 0 : 1e-3, // θ near the optimum: J to 1e-6, θ to about its root
                $"fold {select} at C = {kept.Path[i].Value}");
        double[] foldJ = FoldObjectives(PathOf("t.json"));
        Assert.Equal(9, foldJ.Length);
        Check.Close(FoldObjectives(PathOf("d.json")), foldJ, 1e-7, 1e-6, "each fold's J at each C, kept sparse against made dense");
        Check.Close(Objective(dense.Out), Objective(sparse.Out), 0, 1e-6, "the refit's J");

        Assert.Equal(0, Run("convert", "--data", tagged, "--multi-label", "--out", PathOf("t.sgd")).Code);
        var file = Run(["train", "--data", PathOf("t.sgd"), "--model", PathOf("f"), .. path]);
        Assert.True(file.Code == 0, file.Err);
        Assert.Contains("kept sparse", file.Out);
        Assert.Equal(kept.Chosen, ModelFile.Load(PathOf("f")).Selection!.Chosen);
        Check.Close(Objective(sparse.Out), Objective(file.Out), 0, 1e-6, "the refit's J from the .sgd file");
    }

    /// <summary>A bad grid on sparse rows is the same one error as on dense rows.</summary>
    [Theory]
    [InlineData("--C|1,2", "several --C values are chosen among on held-out rows: give --cv K, or --val / --val-fraction")]
    [InlineData("--C|0,1|--cv|3", "--C values must be finite and > 0, got 0")]
    [InlineData("--C|1,1|--cv|3", "--C names a value twice")]
    [InlineData("--C|10:1:3|--cv|3", "a range needs 0 < low < high")]
    [InlineData("--cv|31", "fewer than the folds; give fewer folds")]
    [InlineData("--cv|3|--val-fraction|0.2", "give --cv or --val/--val-fraction, not both")]
    [InlineData("--cv|3|--optimizer|adam", "choosing C fits each value to its optimum with newton or lbfgs")]
    public void ABadGridOnSparseRowsIsTheSameError(string options, string expected)
    {
        var (code, _, error) = Run(["train", "--data", SparseLibSvm("s.libsvm"), "--model", PathOf("m"), "--quiet", .. options.Split('|')]);
        Assert.Equal(1, code);
        Assert.Contains(expected, error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.False(File.Exists(PathOf("m")));
    }

    [Theory]
    [InlineData("--C|1,2", "several --C values are chosen among on held-out rows: give --cv K, or --val / --val-fraction")]
    [InlineData("--C|0,1|--cv|3", "--C values must be finite and > 0, got 0")]
    [InlineData("--C|1,1|--cv|3", "--C names a value twice")]
    [InlineData("--C|1:2|--cv|3", "give one value, values separated by commas, or a range low:high:count")]
    [InlineData("--C|1e-2:1e2:1|--cv|3", "a range is low:high:count with a count of at least 2")]
    [InlineData("--C|10:1:3|--cv|3", "a range needs 0 < low < high")]
    [InlineData("--C|a,1|--cv|3", "'a' is not a number")]
    [InlineData("--cv|1", "--cv must be at least 2 folds, got 1")]
    [InlineData("--cv|51", "--cv 51: class setosa has 50 rows, fewer than the folds; give fewer folds")]
    [InlineData("--cv|3|--val-fraction|0.2", "give --cv or --val/--val-fraction, not both")]
    [InlineData("--cv|3|--optimizer|adam", "choosing C fits each value to its optimum with newton or lbfgs")]
    [InlineData("--cv|3|--select|f1", "--select must be accuracy or log-loss, got 'f1'")]
    [InlineData("--weight-decay|1,2", "several --weight-decay values are chosen among on held-out rows: give --cv K, or --val / --val-fraction")]
    [InlineData("--weight-decay|0,1|--cv|3", "--weight-decay values must be finite and > 0, got 0 (no penalty: give --weight-decay 0 alone)")]
    [InlineData("--weight-decay|0.1,0.1|--cv|3", "--weight-decay names a value twice")]
    [InlineData("--weight-decay|1:0.1:3|--cv|3", "--weight-decay 1:0.1:3: a range needs 0 < low < high")]
    [InlineData("--weight-decay|0.1,x|--cv|3", "--weight-decay 0.1,x: 'x' is not a number")]
    [InlineData("--weight-decay|0.1,1|--C|1|--cv|3", "give --C or --weight-decay, not both")]
    [InlineData("--C|1:1e309:3|--cv|3", "--C 1:1e309:3: '1e309' is beyond the range of a double")]
    [InlineData("--weight-decay|1e-50,1e-3|--cv|3", "--weight-decay 1E-50 is 0 as a float, the λ the fits take")]
    [InlineData("--C|5e-324,1|--cv|3", "C = 4.94066E-324 makes λ = 1/(C·N) infinite")]
    [InlineData("--C|5e-324", "C = 4.94066E-324 makes λ = 1/(C·N) infinite")]
    [InlineData("--C|0.1,1|--cv|3|--patience|3", "--patience stops a mini-batch fit early; choosing among values fits each to its optimum")]
    [InlineData("--C|0.1,1|--val-fraction|0.2|--patience|3", "--patience stops a mini-batch fit early; choosing among values")]
    [InlineData("--weight-decay|0.1,1|--cv|3|--optimizer|sgd", "choosing weight decay fits each value to its optimum with newton or lbfgs")]
    public void ABadGridOrCombinationIsOneClearError(string options, string expected)
    {
        var (code, output, error) = Run(["train", "--data", Check.IrisPath, "--model", PathOf("m"), "--quiet", .. options.Split('|')]);
        Assert.Equal(1, code);
        Assert.Contains(expected, error);
        Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.False(File.Exists(PathOf("m")));
    }

    /// <summary>The table tells close values apart (4 significant digits, or as many as it takes), as the chosen line does.</summary>
    [Fact]
    public void CloseValuesAreToldApartInTheTable()
    {
        var (code, output, error) = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--quiet", "--C", "1:1.0001:4", "--cv", "3");
        Assert.True(code == 0, error);
        string[] values = [.. output.Split('\n').Where(l => Regex.IsMatch(l, @"^\d")).Select(l => l.Split(' ')[0])];
        Assert.Equal(["1", "1.00003", "1.00007", "1.0001"], values);
    }

    /// <summary>--init-model with a path over C is one clear error, not a start silently left unused.</summary>
    [Fact]
    public void AStartModelWithAPathIsOneClearError()
    {
        Assert.Equal(0, Run("train", "--data", Check.IrisPath, "--model", PathOf("start"), "--quiet").Code);
        var (code, _, error) = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--quiet", "--init-model", PathOf("start"),
            "--C", "0.1,1", "--cv", "3");
        Assert.Equal(1, code);
        Assert.Contains("--init-model continues one fit; choosing C fits every fold from zeros", error);
        Assert.False(File.Exists(PathOf("m")));
    }
}
