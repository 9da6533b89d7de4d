using System.Globalization;
using System.Text.Json;
using SoftmaxGpu.Model;

namespace SoftmaxGpu.Tests;

/// <summary>
/// Multi-label from the command line: `train --multi-label` with a tags column and with 0/1 tag columns, the model
/// file's kind, `predict` tag sets and probabilities, `evaluate`'s metrics against a count by hand, warm start,
/// and every misuse with its own error.
/// </summary>
public sealed class MultiLabelCliTests() : CliFolder("softmaxgpu-multilabel-")
{
    /// <summary>Rows whose tags follow their features: "hi" where a + b &gt; 0, "pos" where a &gt; 0, "odd" for odd rows (unlearnable).</summary>
    internal static (string Tags, string Columns) Data(int rows = 120)
    {
        var random = new Random(4);
        var tags = new System.Text.StringBuilder("a,b,tags\n");
        var columns = new System.Text.StringBuilder("a,hi,b,pos,odd\n");
        for (int r = 0; r < rows; r++)
        {
            double a = random.NextDouble() * 4 - 2, b = random.NextDouble() * 4 - 2;
            bool hi = a + b > 0, pos = a > 0, odd = r % 2 == 1;
            string set = string.Join('|', new[] { hi ? "hi" : "", pos ? "pos" : "", odd ? "odd" : "" }.Where(t => t.Length > 0));
            string x = a.ToString("F4", CultureInfo.InvariantCulture), y = b.ToString("F4", CultureInfo.InvariantCulture);
            tags.Append($"{x},{y},{set}\n");
            columns.Append($"{x},{(hi ? 1 : 0)},{y},{(pos ? 1 : 0)},{(odd ? 1 : 0)}\n");
        }
        return (tags.ToString(), columns.ToString());
    }

    [Fact]
    public void ZeroOneTagColumnsWithoutLabelAreAnErrorNamingThem()
    {
        // emotions.csv ends in six 0/1 tag columns: read as a tags column, the last would be the only tag.
        string emotions = Path.Combine(AppContext.BaseDirectory, "data", "emotions.csv");
        string model = PathOf("m.model");
        const string Tags = "amazed-suprised,happy-pleased,relaxing-calm,quiet-still,sad-lonely,angry-aggresive";
        var train = Run("train", "--data", emotions, "--multi-label", "--model", model, "--device", "host");
        Assert.Equal(1, train.Code);
        Assert.Contains("reads the last column ('angry-aggresive') as '|'-separated tags, but it holds only 0 and 1", train.Err);
        Assert.Contains($"The file ends in 6 0/1 column(s): {Tags.Replace(",", ", ")}. Name the tag columns: --label {Tags} ", train.Err);
        Assert.DoesNotContain("2 tags", train.Out);
        Assert.False(File.Exists(model));

        var named = Run("train", "--data", emotions, "--multi-label", "--label", Tags, "--model", model, "--device", "host", "--epochs", "3");
        Assert.True(named.Code == 0, named.Err);
        Assert.Contains("(6 tags: amazed-suprised, happy-pleased", named.Out);
        Assert.Contains("72 features", named.Out);

        // The trailing run stops at the first column that is not 0/1 (b); a tags column of text is unaffected.
        var columns = Run("train", "--data", Write("columns.csv", Data().Columns), "--multi-label", "--model", model, "--device", "host");
        Assert.Equal(1, columns.Code);
        Assert.Contains("ends in 2 0/1 column(s): pos, odd. Name the tag columns: --label pos,odd ", columns.Err);
    }

    [Fact]
    public void TagsColumnTrainsPredictsAndEvaluates()
    {
        string data = Write("tags.csv", Data().Tags);
        string model = PathOf("m.model");
        var train = Run("train", "--data", data, "--multi-label", "--model", model, "--device", "host");
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("multi-label (tags in column 'tags')", train.Out);
        Assert.Contains("binary cross-entropy summed over the tags", train.Out);
        Assert.Contains("3 tags: hi, odd, pos", train.Out);
        SoftmaxModel saved = ModelFile.Load(model);
        Assert.Equal(ModelKind.MultiLabelTags, saved.Kind);
        Assert.Equal("tags", saved.LabelName);

        // predict: tag sets (hi and pos are separable; odd is a coin toss), and probabilities that agree with them.
        string output = PathOf("p.csv");
        var predict = Run("predict", "--model", model, "--data", data, "--out", output, "--proba", "--device", "host");
        Assert.True(predict.Code == 0, predict.Err);
        string[] lines = File.ReadAllLines(output);
        Assert.Equal("predicted,p_hi,p_odd,p_pos", lines[0]);
        Assert.Equal(121, lines.Length);
        string[] truth = File.ReadAllLines(data).Skip(1).Select(l => l.Split(',')[2]).ToArray();
        int hiRight = 0;
        for (int r = 0; r < 120; r++)
        {
            string[] fields = lines[r + 1].Split(',');
            double[] p = fields.Skip(1).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            string[] expected = new[] { "hi", "odd", "pos" }.Where((_, c) => p[c] >= 0.5).ToArray();
            Assert.Equal(string.Join('|', expected), fields[0]);
            hiRight += fields[0].Split('|').Contains("hi") == truth[r].Split('|').Contains("hi") ? 1 : 0;
        }
        Assert.True(hiRight >= 110, $"'hi' right on {hiRight} of 120 rows");

        // evaluate --json: the metrics recounted from predict's output.
        var evaluate = Run("evaluate", "--model", model, "--data", data, "--json", "--device", "host");
        Assert.True(evaluate.Code == 0, evaluate.Err);
        using JsonDocument json = JsonDocument.Parse(evaluate.Out);
        JsonElement e = json.RootElement;
        string[] predicted = lines.Skip(1).Select(l => l.Split(',')[0]).ToArray();
        int exact = predicted.Zip(truth, (p, t) => Sorted(p) == Sorted(t) ? 1 : 0).Sum();
        Assert.Equal((double)exact / 120, e.GetProperty("subset_accuracy").GetDouble(), 12);
        long tp = 0, fp = 0, fn = 0, wrong = 0;
        foreach ((string p, string t) in predicted.Zip(truth))
            foreach (string tag in new[] { "hi", "odd", "pos" })
            {
                bool inP = p.Split('|').Contains(tag), inT = t.Split('|').Contains(tag);
                (tp, fp, fn) = (tp + (inP && inT ? 1 : 0), fp + (inP && !inT ? 1 : 0), fn + (!inP && inT ? 1 : 0));
                wrong += inP != inT ? 1 : 0;
            }
        Assert.Equal(wrong / 360.0, e.GetProperty("hamming_loss").GetDouble(), 12);
        Assert.Equal(2.0 * tp / (2 * tp + fp + fn), e.GetProperty("micro_f1").GetDouble(), 12);
        Assert.Equal(["hi", "odd", "pos"], e.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        // A higher threshold predicts no more tags than the default.
        var strict = Run("predict", "--model", model, "--data", data, "--out", PathOf("q.csv"), "--threshold", "0.9", "--device", "host");
        Assert.True(strict.Code == 0, strict.Err);
        Assert.True(File.ReadAllLines(PathOf("q.csv")).Skip(1).Sum(l => l.Split('|').Length) <= predicted.Sum(p => p.Split('|').Length));
    }

    private static string Sorted(string tags) => string.Join('|', tags.Split('|', StringSplitOptions.RemoveEmptyEntries).Order());

    [Fact]
    public void TagColumnsGiveTheSameModelAsTheTagsColumn()
    {
        (string tags, string columns) = Data();
        string fromTags = PathOf("tags.model"), fromColumns = PathOf("columns.model");
        Assert.Equal(0, Run("train", "--data", Write("tags.csv", tags), "--multi-label", "--model", fromTags, "--device", "host").Code);
        var train = Run("train", "--data", Write("columns.csv", columns), "--multi-label", "--label", "hi,odd,pos",
            "--model", fromColumns, "--device", "host");
        Assert.True(train.Code == 0, train.Err);
        SoftmaxModel a = ModelFile.Load(fromTags), b = ModelFile.Load(fromColumns);
        Assert.Equal(ModelKind.MultiLabelColumns, b.Kind);
        Assert.Equal(["hi", "odd", "pos"], b.Classes);
        Assert.Equal(["a", "b"], b.FeatureNames);
        // Same features, same tags, same deterministic training: the same θ.
        Assert.Equal(a.Weights, b.Weights);
        Assert.Equal(a.Bias, b.Bias);

        // The columns model predicts on data with or without its tag columns, and evaluates where they are.
        var predict = Run("predict", "--model", fromColumns, "--data", PathOf("columns.csv"), "--out", PathOf("p.csv"), "--device", "host");
        Assert.True(predict.Code == 0, predict.Err);
        var evaluate = Run("evaluate", "--model", fromColumns, "--data", PathOf("columns.csv"), "--device", "host");
        Assert.True(evaluate.Code == 0, evaluate.Err);
        Assert.Contains("micro-F1", evaluate.Out);
        Assert.Equal(0, Run("predict", "--model", fromColumns, "--data", Write("x.csv", "a,b\n1,1\n-1,-1\n"), "--out", PathOf("x-p.csv"),
            "--device", "host").Code);
    }

    [Fact]
    public void WarmStartContinuesAMultiLabelModel()
    {
        string data = Write("tags.csv", Data().Tags);
        string partway = PathOf("partway.model"), warm = PathOf("warm.model"), cold = PathOf("cold.model");
        Assert.Equal(0, Run("train", "--data", data, "--multi-label", "--model", cold, "--device", "host").Code);
        Assert.Equal(0, Run("train", "--data", data, "--multi-label", "--model", partway, "--epochs", "3", "--device", "host").Code);
        var run = Run("train", "--data", data, "--multi-label", "--init-model", partway, "--model", warm, "--device", "host");
        Assert.True(run.Code == 0, run.Err);
        string Objective(string output) => output.Split("objective ")[^1].Split(';')[0];
        Assert.Equal(Objective(Run("train", "--data", data, "--multi-label", "--model", cold, "--device", "host").Out)[..7],
            Objective(run.Out)[..7]);
    }

    [Theory]
    [InlineData("a,b,tags\n1,2,x\n", new[] { "--label-smoothing", "0.1" }, "--label-smoothing applies to the softmax")]
    [InlineData("a,hi,b,pos\n1,2,0,1\n", new[] { "--label", "hi,pos" }, "data row 1, tag column 'hi': 2 is not 0 or 1")]
    [InlineData("a,hi,b\n1,0,1\n", new[] { "--label", "hi,lo" }, "tag column(s) 'lo' that are not in the header")]
    [InlineData("hi,pos\n1,0\n", new[] { "--label", "hi,pos" }, "every column is a tag column; there are no features")]
    [InlineData("a,b,tags\n1,2,\n3,4,\n", new string[0], "no row has a tag")]
    [InlineData("a,b,tags\n1,2,x\n", new[] { "--label", "hi,hi" }, "name each tag column once")]
    [InlineData("a,b,tags\n1,2,x\n", new[] { "--class-weight", "balanced" }, "multi-label training does not take them yet")]
    public void MultiLabelMisuseIsAClearError(string csv, string[] extra, string message)
    {
        var run = Run(["train", "--data", Write("bad.csv", csv), "--multi-label", "--model", PathOf("m.model"), "--device", "host", .. extra]);
        Assert.Equal(1, run.Code);
        Assert.Contains(message, run.Err);
        Assert.False(File.Exists(PathOf("m.model")));
    }

    [Fact]
    public void KindsDoNotMix()
    {
        string tags = Write("tags.csv", Data().Tags);
        string multi = PathOf("multi.model"), single = PathOf("single.model");
        Assert.Equal(0, Run("train", "--data", tags, "--multi-label", "--model", multi, "--device", "host").Code);
        Assert.Equal(0, Run("train", "--data", Check.IrisPath, "--model", single, "--device", "host").Code);

        var threshold = Run("predict", "--model", single, "--data", Check.IrisPath, "--out", PathOf("p.csv"), "--threshold", "0.3");
        Assert.Contains("--threshold applies to multi-label models", threshold.Err);
        var range = Run("predict", "--model", multi, "--data", tags, "--out", PathOf("p.csv"), "--threshold", "1");
        Assert.Contains("--threshold must be in (0, 1), got 1", range.Err);
        var warmMulti = Run("train", "--data", tags, "--init-model", multi, "--model", PathOf("x.model"));
        Assert.Contains("is a multi-label-tags model; add --multi-label", warmMulti.Err);
        var warmSingle = Run("train", "--data", Check.IrisPath, "--multi-label", "--label", "species", "--init-model", single,
            "--model", PathOf("x.model"));
        Assert.Contains("is a multiclass model", warmSingle.Err);
        var unknown = Run("evaluate", "--model", multi, "--data", Write("new.csv", "a,b,tags\n1,2,hi|new\n"));
        Assert.Contains("tag(s) 'new' are not among the model's tags (hi, odd, pos)", unknown.Err);
        var plot = Run("evaluate", "--model", multi, "--data", tags, "--plot", PathOf("c.png"));
        Assert.Contains("--plot draws a confusion matrix", plot.Err);
        Assert.Equal(0, Run("convert", "--data", Check.IrisPath, "--out", PathOf("d.sgd")).Code);
        var sgd = Run("train", "--data", PathOf("d.sgd"), "--multi-label", "--model", PathOf("x.model"));
        Assert.Contains("d.sgd: a .sgd file of labels in column 'species', not tag sets; multi-label training reads a file " +
                        "converted with --multi-label --label ...", sgd.Err);
    }

    [Fact]
    public void AModelFileFromANewerBuildSaysSo()
    {
        string model = PathOf("m.model");
        Assert.Equal(0, Run("train", "--data", Check.IrisPath, "--model", model, "--device", "host").Code);
        byte[] bytes = File.ReadAllBytes(model);
        BitConverter.GetBytes(ModelFile.Version + 1).CopyTo(bytes, 8);
        File.WriteAllBytes(model, bytes);
        var ex = Assert.Throws<SoftmaxGpu.Data.DataFormatException>(() => ModelFile.Load(model));
        Assert.Contains($"model format version {ModelFile.Version + 1}; this build reads versions 1 to {ModelFile.Version} " +
                        "(the model comes from a newer SoftmaxGpu: update this one)", ex.Message);
    }
}
