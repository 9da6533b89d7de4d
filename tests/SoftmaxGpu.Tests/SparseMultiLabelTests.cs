using System.Globalization;
using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Kernels;
using SoftmaxGpu.Model;
using SoftmaxGpu.Tests.Reference;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// Multi-label training on sparse rows: the host engine's sparse objective with the sigmoid head against the float64
/// multi-label reference on the same rows made dense (empty rows, rows without tags, K = 1, logits to 1e30, implicit
/// centring); L-BFGS on sparse rows reaching the dense multi-label path's J; LIBSVM tag lists read (and each malformed
/// list one error with file, line and column); and the CLI's train → predict → evaluate, convert --multi-label.
/// </summary>
public sealed class SparseMultiLabelTests() : CliFolder("softmaxgpu-sparse-ml-")
{
    /// <summary>Seeded 0/1 tags [N, K]: row 0 and every seventh row without a tag, tag c on with its own share.</summary>
    internal static float[] RandomTags(Random random, int rows, int k)
    {
        var y = new float[rows * k];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < k; c++)
                y[r * k + c] = r % 7 != 0 && random.NextDouble() < 0.2 + 0.6 * c / Math.Max(1, k - 1) ? 1f : 0f;
        return y;
    }

    // (rows, D, K, density, scale of θ, centred)
    public static TheoryData<int, int, int, double, double, bool> Shapes => new()
    {
        { 3, 5, 2, 0.5, 1, false },
        { 37, 53, 7, 0.1, 1, true },
        { 613, 301, 3, 0.05, 1, true },   // two workers
        { 41, 17, 1, 0.3, 1, false },     // K = 1: one sigmoid
        { 300, 70, 5, 0.2, 1e29, false }, // logits of about 1e30
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void TheSparseMultiLabelObjectiveIsTheReferenceOnTheSameRowsMadeDense(int rows, int d, int k, double density,
        double weightScale, bool centred)
    {
        var random = new Random(rows * 17 + d * 5 + k);
        SparseRows x = SparseTrainingTests.RandomRows(random, rows, d, density); // row 0 empty, row 1 one non-zero
        float[] y = RandomTags(random, rows, k);
        double[] theta = Check.AsDevice(Check.Normal(random, k * d + k, weightScale));
        double[]? centre = centred ? Check.AsDevice(Check.Normal(random, d, 0.5)) : null;
        const double Lambda = 0.01;

        (double jRef, double[] gRef) = ReferenceMath.MultiLabelObjectiveAndGradient(theta, SparseTrainingTests.DenseCentred(x, centre),
            y.Select(v => (double)v).ToArray(), rows, d, k, Lambda);

        var set = new SparseSet(x, new int[rows]) { Targets = y };
        var objective = new SparseObjective<SigmoidHead>(set, k, centre, Lambda);
        double[] transposed = SparseTraining.Transposed(Check.ToFloat(theta), k, d);
        (double j1, double[] g1, double loss, _) = objective.Evaluate(transposed);
        (double j2, double[] g2, _, _) = objective.Evaluate(transposed);

        double scale = Math.Max(1, weightScale);
        Check.Close(jRef, j1, 1e-6 * scale, 1e-5, "J");
        Check.Close(gRef, SparseTrainingTests.Untransposed(g1, k, d), 1e-6 * scale, 1e-4, "∇J");
        Assert.Equal(j1, j2); // deterministic: the same bits
        Assert.Equal(g1, g2);
        (double scored, _) = objective.Score(transposed, set);
        Check.Close(loss, scored, 0, 1e-6, "the score of the training rows (Z by row) against their pass (Z by column)");
    }

    /// <summary>The softmax head on the same rows is another objective: a head swapped for the other must not pass.</summary>
    [Fact]
    public void TheSigmoidHeadIsNotTheSoftmaxHead()
    {
        var random = new Random(3);
        SparseRows x = SparseTrainingTests.RandomRows(random, 50, 20, 0.2);
        float[] y = RandomTags(random, 50, 4);
        double[] theta = SparseTraining.Transposed(Check.ToFloat(Check.Normal(random, 4 * 20 + 4)), 4, 20);
        var set = new SparseSet(x, new int[50]) { Targets = y };
        double sigmoid = new SparseObjective<SigmoidHead>(set, 4, null, 0).Evaluate(theta).J;
        double softmax = new SparseObjective<SoftmaxHead>(set, 4, null, 0).Evaluate(theta).J;
        Assert.True(Math.Abs(sigmoid - softmax) > 1e-2 * Math.Abs(sigmoid), $"sigmoid J {sigmoid}, softmax J {softmax}");
    }

    /// <summary>Emotions (593 rows, 72 features, 6 tags) and a seeded sparse set of 2000 features, as LIBSVM tag lists.</summary>
    public static TheoryData<string, FeatureScaling> OptimumSets => new()
    {
        { "emotions", FeatureScaling.Std },
        { "emotions", FeatureScaling.MaxAbs },
        { "synthetic", FeatureScaling.Std },
    };

    /// <summary>L-BFGS on the rows kept sparse (centred implicitly) reaches the dense multi-label path's J on the same rows.</summary>
    [Theory]
    [MemberData(nameof(OptimumSets))]
    public void SparseMultiLabelTrainingReachesTheDenseOptimum(string set, FeatureScaling scaling)
    {
        SparseTable rows = SparseTable.Read(set == "emotions" ? EmotionsLibSvm() : SyntheticLibSvm(new Random(5), 400, 2000, 9),
            new LibSvmOptions { MultiLabel = true });
        var dense = new float[rows.Rows * rows.Dim];
        rows.X.Densify(0, rows.Rows, dense);
        var table = new Table(rows.Source, rows.FeatureNames, rows.LabelName, dense, rows.Labels) { Sparse = true };
        var options = new TrainOptions { Optimizer = "lbfgs", Scale = scaling };
        using Gpu host = Gpu.Open("host");

        (SoftmaxModel denseModel, TrainResult denseResult) = TagPipeline.Train(host, table, null, ModelKind.MultiLabelTags, null, options);
        (SoftmaxModel sparseModel, TrainResult sparseResult) = TagPipeline.TrainSparse(host, rows, null, options);

        Assert.True(sparseResult.Converged, sparseResult.StopReason);
        Assert.Equal(denseResult.Plan.WeightDecay, sparseResult.Plan.WeightDecay);
        Check.Close(denseResult.Objective!.Value, sparseResult.Objective!.Value, 0, 1e-6, "J at the optimum");
        Assert.Equal(ModelKind.MultiLabelTags, sparseModel.Kind);
        Assert.Equal(denseModel.Classes, sparseModel.Classes);
        Assert.All(sparseModel.Standardizer.Mean, m => Assert.Equal(0, m)); // the centre is in the bias
        Assert.All(denseModel.Standardizer.Mean, m => Assert.Equal(0, m));
    }

    /// <summary>
    /// Choosing C on tag lists kept sparse (<see cref="TagPipeline.TrainSparsePath"/>) is the dense multi-label path on
    /// the same rows (<see cref="TagPipeline.TrainPath"/>): the same folds by row, every fold's J at every C, its held-out
    /// log-loss over the tags, the chosen C and the refit; the model records the path as the dense one does.
    /// </summary>
    [Fact]
    public void ChoosingCOnSparseTagListsIsTheDensePathOnTheSameRows()
    {
        SparseTable rows = SparseTable.Read(SyntheticLibSvm(new Random(9), 150, 300, 4), new LibSvmOptions { MultiLabel = true });
        var dense = new float[rows.Rows * rows.Dim];
        rows.X.Densify(0, rows.Rows, dense);
        var table = new Table(rows.Source, rows.FeatureNames, rows.LabelName, dense, rows.Labels) { Sparse = true };
        var options = new TrainOptions { Seed = 4 };
        double[] cs = [0.01, 0.1, 1];
        using Gpu host = Gpu.Open("host");

        (SoftmaxModel denseModel, PathResult densePath) = TagPipeline.TrainPath(host, table, null, ModelKind.MultiLabelTags, null, options,
            cs, 3, PathScore.LogLoss);
        (SoftmaxModel sparseModel, PathResult sparsePath) = TagPipeline.TrainSparsePath(host, rows, null, options, cs, 3, PathScore.LogLoss);

        SparseCrossValidationTests.SamePath(densePath, sparsePath, scoreRtol: 1e-4);
        Assert.Equal(ModelKind.MultiLabelTags, sparseModel.Kind);
        Assert.Equal(denseModel.Classes, sparseModel.Classes);
        ModelSelection selection = Assert.IsType<ModelSelection>(sparseModel.Selection);
        Assert.Equal(("log-loss", 3, sparsePath.Chosen), (selection.Score, selection.Folds, selection.Chosen));
        Assert.All(sparseModel.Standardizer.Mean, m => Assert.Equal(0, m)); // the centre is in the bias

        // Subset accuracy: the same fold scores (a row right when every tag is) and choice.
        (_, PathResult denseAccuracy) = TagPipeline.TrainPath(host, table, null, ModelKind.MultiLabelTags, null, options, cs, 3,
            PathScore.Accuracy);
        (_, PathResult sparseAccuracy) = TagPipeline.TrainSparsePath(host, rows, null, options, cs, 3, PathScore.Accuracy);
        for (int i = 0; i < cs.Length; i++)
            Check.Close(denseAccuracy.Points[i].Scores, sparseAccuracy.Points[i].Scores, 1e-9, 0, $"each fold's subset accuracy at C = {cs[i]}");
        Assert.Equal(denseAccuracy.Chosen, sparseAccuracy.Chosen);
    }

    /// <summary>emotions.csv as LIBSVM tag lists: "1,2 1:0.03 …", the tags the indices of its six 0/1 tag columns that hold 1.</summary>
    private string EmotionsLibSvm()
    {
        string[] lines = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "data", "emotions.csv"));
        var libsvm = new List<string>();
        foreach (string line in lines.Skip(1))
        {
            string[] cells = line.Split(',');
            string[] features = cells[..^6], tags = cells[^6..];
            libsvm.Add(string.Join(',', Enumerable.Range(0, 6).Where(t => tags[t] == "1")) + " " + string.Join(' ',
                features.Select((v, j) => (v, j)).Where(p => double.Parse(p.v, CultureInfo.InvariantCulture) != 0).Select(p => $"{p.j + 1}:{p.v}")));
        }
        return Write("emotions.libsvm", string.Join("\n", libsvm) + "\n");
    }

    /// <summary>
    /// Seeded sparse rows with tags from a sparse linear teacher (each tag driven by its own band of features), some rows
    /// without a tag (a line starting with its first entry) and some without a feature (tag 0 alone: a blank line would be no row).
    /// </summary>
    private string SyntheticLibSvm(Random random, int rows, int d, int k, string name = "synthetic.libsvm")
    {
        var lines = new List<string>();
        for (int r = 0; r < rows; r++)
        {
            int[] columns = r % 50 == 49 ? [] : Enumerable.Range(0, 12).Select(_ => random.Next(d)).Distinct().Order().ToArray();
            double[] values = columns.Select(_ => Math.Round(random.NextDouble() * 2, 3)).ToArray();
            int[] tags = Enumerable.Range(0, k).Where(c => columns.Zip(values).Sum(p => p.First % k == c ? p.Second : 0) > 1
                                                           || random.NextDouble() < 0.05 || columns.Length == 0 && c == 0).ToArray();
            string entries = string.Join(' ', columns.Zip(values).Select(p => FormattableString.Invariant($"{p.First + 1}:{p.Second}")));
            lines.Add(tags.Length == 0 ? entries : $"{string.Join(',', tags)} {entries}");
        }
        return Write(name, string.Join("\n", lines) + "\n");
    }

    [Fact]
    public void TagListsAreReadAsTagSetsAndALineWithoutOneHasNoTags()
    {
        string path = Write("tags.libsvm", "3,17,42 1:0.5 7:1.2\n 2:1\n4:2\n1,a 1:1 # a comment\nb\n# only a comment\n");
        SparseTable rows = SparseTable.Read(path, new LibSvmOptions { MultiLabel = true });
        Assert.Equal(["3|17|42", "", "", "1|a", "b"], rows.Labels);
        Assert.Equal(LibSvmRowReader.TagsName, rows.LabelName);
        Assert.Equal([0, 2, 3, 4, 5, 5], rows.X.RowStart);
        Assert.Equal(["1", "17", "3", "42", "a", "b"], TagTable.DistinctTags(rows.Source, rows.Labels)); // not all integers: ordinal
        Table dense = LibSvmTableReader.Read(path, new LibSvmOptions { MultiLabel = true });
        Assert.Equal(rows.Labels, dense.Labels); // the dense reader reads the same tag sets
    }

    public static TheoryData<string, string, bool, int, int, string> MalformedTagLists => new()
    {
        // name, file, --multi-label, line, column, the problem
        { "empty tag", "1 1:1\n1,,2 1:1\n", true, 2, 3, "the tag list '1,,2' has an empty tag" },
        { "comma first", ",1 1:1\n", true, 1, 1, "the tag list ',1' has an empty tag" },
        { "comma last", "1,2, 1:1\n", true, 1, 5, "the tag list '1,2,' has an empty tag" },
        { "tag twice", "1 1:1\n2 2:1\n1,2,1 1:1\n", true, 3, 5, "the tag list '1,2,1' names tag '1' twice" },
        { "'|' in a tag", "a|b 1:1\n", true, 1, 2, "the tag list 'a|b' holds '|'" },
        { "qid after a tag list", "1,2 qid:x 1:1\n", true, 1, 9, "'qid:x': a qid must be an integer" },
        { "a tag list without --multi-label", "1 1:1\n3,17 1:2\n", false, 2, 2, "the label '3,17' holds ',' as a multi-label tag list does: give --multi-label" },
    };

    /// <summary>Each malformed tag list is one error naming file, line and column, from both readers (sparse and dense).</summary>
    [Theory]
    [MemberData(nameof(MalformedTagLists))]
    public void EachMalformedTagListIsOneErrorNamingFileLineAndColumn(string name, string text, bool multiLabel, int line, int column,
        string problem)
    {
        string path = Write("bad.libsvm", text);
        var options = new LibSvmOptions { MultiLabel = multiLabel };
        foreach (Action read in new Action[] { () => SparseTable.Read(path, options), () => LibSvmTableReader.Read(path, options) })
        {
            var error = Assert.Throws<DataFormatException>(read);
            Assert.Contains($"{path}: line {line}, column {column}: ", error.Message);
            Assert.True(error.Message.Contains(problem, StringComparison.Ordinal), $"{name}: {error.Message}");
        }
        var run = Run(["train", "--data", path, "--model", PathOf("m.model"), "--device", "host", .. multiLabel ? ["--multi-label"] : Array.Empty<string>()]);
        Assert.Equal(1, run.Code);
        Assert.Single(run.Err.Trim().Split('\n'));
        Assert.Contains($"line {line}, column {column}: {problem}", run.Err);
        Assert.False(File.Exists(PathOf("m.model")));
    }

    /// <summary>
    /// train --multi-label on LIBSVM tag lists kept sparse, with a validation file; predict writes each row's tag set;
    /// evaluate reports what the model trained on the same rows made dense (--sparse off) reports; convert --multi-label
    /// writes a sparse .sgd file that trains to the text's J, on the host engine and on ILGPU's CPU accelerator.
    /// </summary>
    [Fact]
    public void TheCliTrainsPredictsAndEvaluatesLibSvmTagListsKeptSparse()
    {
        var random = new Random(11);
        string train = SyntheticLibSvm(random, 240, 300, 4, "train.libsvm"), test = SyntheticLibSvm(random, 60, 300, 4, "test.libsvm");
        var sparse = Run("train", "--data", train, "--val", test, "--multi-label", "--model", PathOf("s.model"), "--device", "host",
            "--quiet", "--log-json", PathOf("s.jsonl"));
        Assert.True(sparse.Code == 0, sparse.Err);
        Assert.Contains("kept sparse", sparse.Out);
        Assert.True(sparse.Out.Contains("multi-label, 4 tags; validation: 60 rows", StringComparison.Ordinal), sparse.Out);
        Assert.Contains("engine: host engine, sparse rows", sparse.Out);
        Assert.Equal(ModelKind.MultiLabelTags, ModelFile.Load(PathOf("s.model")).Kind);
        var dense = Run("train", "--data", train, "--multi-label", "--sparse", "off", "--model", PathOf("d.model"), "--device", "host", "--quiet");
        Assert.True(dense.Code == 0, dense.Err);
        Assert.Contains("LIBSVM tag lists, made dense", dense.Out);
        Check.Close(Objective(dense.Out), Objective(sparse.Out), 0, 1e-6, "J: sparse rows against the same rows dense");

        var predict = Run("predict", "--model", PathOf("s.model"), "--data", test, "--out", PathOf("p.csv"), "--proba");
        Assert.True(predict.Code == 0, predict.Err);
        Assert.Contains("engine: host engine, sparse rows", predict.Err);
        string[] predicted = File.ReadAllLines(PathOf("p.csv"));
        Assert.Equal("predicted,p_0,p_1,p_2,p_3", predicted[0]);
        Assert.Equal(61, predicted.Length);
        var sparseEval = Run("evaluate", "--model", PathOf("s.model"), "--data", test, "--json");
        var denseEval = Run("evaluate", "--model", PathOf("d.model"), "--data", test, "--json");
        Assert.True(sparseEval.Code == 0, sparseEval.Err);
        using var s = System.Text.Json.JsonDocument.Parse(sparseEval.Out);
        using var d = System.Text.Json.JsonDocument.Parse(denseEval.Out);
        Assert.Equal(60, s.RootElement.GetProperty("rows").GetInt32());
        Check.Close(d.RootElement.GetProperty("loss").GetDouble(), s.RootElement.GetProperty("loss").GetDouble(), 0, 1e-4, "test loss");
        Assert.Equal(d.RootElement.GetProperty("micro_f1").GetDouble(), s.RootElement.GetProperty("micro_f1").GetDouble(), 0.02);
        Assert.True(s.RootElement.GetProperty("micro_f1").GetDouble() > 0.5, sparseEval.Out);

        var convert = Run("convert", "--data", train, "--multi-label", "--out", PathOf("train.sgd"));
        Assert.True(convert.Code == 0, convert.Err);
        Assert.Contains("4 tags", convert.Out);
        foreach (string device in new[] { "host", "cpu" })
        {
            var fromSgd = Run("train", "--data", PathOf("train.sgd"), "--multi-label", "--model", PathOf($"{device}.model"), "--device", device, "--quiet");
            Assert.True(fromSgd.Code == 0, fromSgd.Err);
            Check.Close(Objective(sparse.Out), Objective(fromSgd.Out), 0, 1e-6, $"J from the .sgd file on {device}");
        }
        var notTags = Run("train", "--data", PathOf("train.sgd"), "--model", PathOf("x.model"), "--device", "host");
        Assert.Contains("its rows hold tag sets (converted with --multi-label): train it with --multi-label", notTags.Err);
        var noFlag = Run("convert", "--data", train, "--out", PathOf("x.sgd"));
        Assert.Contains("give --multi-label (train, convert)", noFlag.Err);
        Assert.False(File.Exists(PathOf("x.sgd")));
    }

    /// <summary>A warm start from a multi-label model trained on sparse rows stops at once: it starts at the optimum.</summary>
    [Fact]
    public void AWarmStartContinuesAMultiLabelModelOnSparseRows()
    {
        string train = SyntheticLibSvm(new Random(13), 150, 200, 3);
        var cold = Run("train", "--data", train, "--multi-label", "--model", PathOf("cold.model"), "--device", "host", "--quiet");
        Assert.True(cold.Code == 0, cold.Err);
        var warm = Run("train", "--data", train, "--multi-label", "--init-model", PathOf("cold.model"), "--model", PathOf("warm.model"),
            "--device", "host", "--quiet");
        Assert.True(warm.Code == 0, warm.Err);
        Check.Close(Objective(cold.Out), Objective(warm.Out), 0, 1e-6, "J of the warm start");
        Assert.True(Iterations(warm.Out) < Iterations(cold.Out) / 2, warm.Out);
        var classes = Run("train", "--data", train, "--init-model", PathOf("cold.model"), "--model", PathOf("x.model"));
        Assert.Contains("is a multi-label-tags model; add --multi-label", classes.Err);
    }

    /// <summary>J from train's model line ("objective 1.99439685;" or ", validation …").</summary>
    private static double Objective(string output) => double.Parse(
        System.Text.RegularExpressions.Regex.Match(output, @"objective ([0-9.E+-]+)[;,]").Groups[1].Value, CultureInfo.InvariantCulture);

    private static int Iterations(string output) =>
        int.Parse(System.Text.RegularExpressions.Regex.Match(output, @"lbfgs: (\d+) iterations").Groups[1].Value, CultureInfo.InvariantCulture);
}
