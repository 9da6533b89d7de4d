using System.Text.Json;

namespace SoftmaxGpu.Tests;

/// <summary>
/// An option that the chosen optimizer does not read is one warning line, not silence; --patience without validation
/// data is an error rather than a switch to Adam that never stops early; evaluate --json --plot on a multi-label
/// model still prints its JSON.
/// </summary>
public sealed class IgnoredOptionsTests() : CliFolder("softmaxgpu-ignored-")
{
    private static string[] Warnings(string err) =>
        err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("warning: ", StringComparison.Ordinal)).ToArray();

    [Fact]
    public void LbfgsWarnsOnceForEachMiniBatchOptionItIgnores()
    {
        var train = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--optimizer", "lbfgs", "--lr", "0.1",
            "--lr-schedule", "constant", "--momentum", "0.5", "--batch-size", "10", "--seed", "7");
        Assert.True(train.Code == 0, train.Err);
        Assert.Equal(
            [
                "warning: --batch-size is ignored by lbfgs", "warning: --lr is ignored by lbfgs",
                "warning: --lr-schedule is ignored by lbfgs", "warning: --momentum is ignored by lbfgs",
                "warning: --seed is ignored by lbfgs without --val-fraction or --cv",
            ],
            Warnings(train.Err));

        // --seed seeds the validation split, so with --val-fraction it is read.
        var split = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--optimizer", "lbfgs", "--seed", "7",
            "--val-fraction", "0.2");
        Assert.True(split.Code == 0, split.Err);
        Assert.Empty(Warnings(split.Err));
    }

    [Fact]
    public void MiniBatchOptimizersWarnOnlyForWhatTheyIgnore()
    {
        string[] common = ["train", "--data", Check.IrisPath, "--model", PathOf("m"), "--lr", "0.1", "--batch-size", "50",
            "--epochs", "2", "--momentum", "0.5", "--nesterov", "--lr-schedule", "constant", "--seed", "3"];
        var sgd = Run([.. common, "--optimizer", "sgd"]);
        Assert.True(sgd.Code == 0, sgd.Err);
        Assert.Empty(Warnings(sgd.Err));
        var adam = Run([.. common, "--optimizer", "adam"]);
        Assert.True(adam.Code == 0, adam.Err);
        Assert.Equal(["warning: --momentum is ignored by adam", "warning: --nesterov is ignored by adam"], Warnings(adam.Err));
    }

    [Fact]
    public void AutoWarnsAboutWhatItsChoiceIgnores()
    {
        // Iris on the host engine, no mini-batch option given: auto picks Newton (15 parameters), which has no momentum.
        var train = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--momentum", "0.5");
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("optimizer: newton (auto", train.Out);
        Assert.Equal(["warning: --momentum is ignored by newton (chosen by --optimizer auto)"], Warnings(train.Err));
    }

    [Fact]
    public void SparseOnRowsThatAreNotLibSvmIsWarnedOf()
    {
        var csv = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--sparse", "on", "--quiet");
        Assert.True(csv.Code == 0, csv.Err);
        Assert.Contains($"warning: --sparse is ignored: it applies to LIBSVM rows (a LIBSVM file, or a sparse .sgd file), and {Check.IrisPath} is a CSV file", csv.Err);
    }

    [Fact]
    public void BenchWarnsOfOptionsItsRunDoesNotRead()
    {
        var bench = Run("bench", "200x8x3", "--kernels", "fused", "--device-memory", "1MiB", "--steps", "1", "--epochs", "0",
            "--copy-mib", "4", "--device", "host");
        Assert.True(bench.Code == 0, bench.Err);
        Assert.Contains("warning: --device-memory is ignored: it caps the device memory of --stream's runs", bench.Err);
        Assert.Contains("warning: --kernels is ignored: the host engine has one path", bench.Err);
    }

    [Fact]
    public void DeviceMemoryOnSparseRowsOnTheHostEngineIsWarnedOf()
    {
        string rows = Write("rows.libsvm", "1 1:1 7:2\n2 2:1\n1 1:2 5:1\n2 3:1 6:1\n");
        var sparse = Run("train", "--data", rows, "--sparse", "on", "--device", "host", "--device-memory", "1KiB", "--model", PathOf("m"), "--quiet");
        Assert.True(sparse.Code == 0, sparse.Err);
        Assert.Contains("warning: --device-memory is ignored: sparse rows on the host engine stay in host memory", sparse.Err);
    }

    [Fact]
    public void SeedDealsTheFoldsAndIsNotWarnedOfWithCv()
    {
        var cv = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--C", "0.1,1", "--cv", "3", "--seed", "5", "--quiet");
        Assert.True(cv.Code == 0, cv.Err);
        Assert.DoesNotContain("--seed is ignored", cv.Err);
    }

    [Fact]
    public void ScaleWithAStartModelIsWarnedOf()
    {
        var first = Run("train", "--data", Check.IrisPath, "--model", PathOf("start"), "--quiet");
        Assert.True(first.Code == 0, first.Err);
        var next = Run("train", "--data", Check.IrisPath, "--model", PathOf("next"), "--init-model", PathOf("start"), "--scale", "none", "--quiet");
        Assert.True(next.Code == 0, next.Err);
        Assert.Contains("warning: --scale is ignored: --init-model continues with the start model's scaling", next.Err);
    }

    [Fact]
    public void SelectWithoutASearchIsWarnedOf()
    {
        var single = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--C", "1", "--select", "log-loss", "--quiet");
        Assert.True(single.Code == 0, single.Err);
        Assert.Contains("warning: --select is ignored: it scores the values of a search", single.Err);
        var search = Run("train", "--data", Check.IrisPath, "--model", PathOf("m2"), "--C", "1", "--cv", "3", "--select", "log-loss", "--quiet");
        Assert.True(search.Code == 0, search.Err);
        Assert.DoesNotContain("--select is ignored", search.Err);
    }

    [Fact]
    public void PatienceWithoutValidationDataIsAnError()
    {
        string model = PathOf("m");
        var train = Run("train", "--data", Check.IrisPath, "--model", model, "--patience", "3");
        Assert.Equal(1, train.Code);
        Assert.Equal("error: --patience stops when the validation loss stops falling: give validation data, --val FILE or " +
                     "--val-fraction F (e.g. 0.2)", train.Err.Trim());
        Assert.Equal("", train.Out); // before reading the data
        Assert.False(File.Exists(model));

        var withValidation = Run("train", "--data", Check.IrisPath, "--model", model, "--patience", "3", "--val-fraction", "0.2",
            "--epochs", "30");
        Assert.True(withValidation.Code == 0, withValidation.Err);
        Assert.Contains("optimizer: adam (auto: mini-batch options were given)", withValidation.Out);
        Assert.Empty(Warnings(withValidation.Err));
    }

    [Fact]
    public void OptionsTheDataDoesNotReadWarn()
    {
        var convert = Run("convert", "--data", Check.IrisPath, "--out", PathOf("iris.sgd"), "--test");
        Assert.True(convert.Code == 0, convert.Err);
        Assert.Equal([$"warning: --test is ignored: it picks the t10k files of an MNIST folder, and {Check.IrisPath} is not a folder"],
            Warnings(convert.Err));

        string libsvm = Write("d.libsvm", "1 1:0.5 2:0.3\n2 1:0.1 2:0.9\n1 1:0.6\n2 2:1.2\n"), model = PathOf("l.model");
        Assert.Equal(0, Run("train", "--data", libsvm, "--model", model, "--epochs", "2").Code);
        var predict = Run("predict", "--model", model, "--data", libsvm, "--out", PathOf("p.csv"), "--separator", ";");
        Assert.True(predict.Code == 0, predict.Err);
        Assert.Equal([$"warning: --separator is ignored: {libsvm} is LIBSVM data, not CSV"], Warnings(predict.Err));
        var evaluate = Run("evaluate", "--model", model, "--data", libsvm, "--label", "y");
        Assert.True(evaluate.Code == 0, evaluate.Err);
        Assert.Equal([$"warning: --label is ignored: {libsvm} is LIBSVM data, whose labels are not a named column"], Warnings(evaluate.Err));

        var sgd = Run("train", "--data", PathOf("iris.sgd"), "--model", PathOf("s.model"), "--separator", ";");
        Assert.True(sgd.Code == 0, sgd.Err);
        Assert.Equal([$"warning: --separator is ignored: {PathOf("iris.sgd")} is a .sgd file, not CSV"], Warnings(sgd.Err));
    }

    [Fact]
    public void EvaluateJsonWithPlotOnAMultiLabelModelPrintsTheJsonAndWarns()
    {
        string data = Write("tags.csv", "a,b,tags\n1,0,x\n0,1,y\n1,1,x|y\n0,0,\n2,0,x\n0,2,y\n");
        string model = PathOf("tags.model");
        var train = Run("train", "--data", data, "--multi-label", "--model", model, "--epochs", "5");
        Assert.True(train.Code == 0, train.Err);

        string png = PathOf("p.png");
        var evaluate = Run("evaluate", "--model", model, "--data", data, "--json", "--plot", png);
        Assert.True(evaluate.Code == 0, evaluate.Err);
        using JsonDocument json = JsonDocument.Parse(evaluate.Out);
        Assert.Equal(6, json.RootElement.GetProperty("rows").GetInt32());
        Assert.Equal(["warning: --plot draws a confusion matrix, which a multi-label model does not have; no plot is written"],
            Warnings(evaluate.Err));
        Assert.False(File.Exists(png));
    }
}
