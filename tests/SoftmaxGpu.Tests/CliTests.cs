using System.Text.Json;
using SoftmaxGpu.Cli;

namespace SoftmaxGpu.Tests;

/// <summary>The console app through its entry point, in a temporary Folder: what a user would type.</summary>
public sealed class CliTests() : CliFolder("softmaxgpu-cli-")
{
    private const string Good = "a,b,label\n1,2,x\n2,1,y\n3,4,x\n4,3,y\n";

    [Fact]
    public void BenchPrintsJsonLinesWithTheFloorForBothKernels()
    {
        var bench = Run("bench", "--device", "cpu", "--json", "--steps", "1", "--epochs", "1", "--copy-mib", "1",
            "--batch-size", "64", "300x7x3", "50x5x40");
        Assert.True(bench.Code == 0, bench.Err);
        string[] lines = bench.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        var kernels = new List<string>();
        foreach (string line in lines)
        {
            using JsonDocument json = JsonDocument.Parse(line);
            JsonElement r = json.RootElement;
            int n = r.GetProperty("N").GetInt32(), d = r.GetProperty("D").GetInt32(), k = r.GetProperty("K").GetInt32();
            double step = r.GetProperty("step_ms").GetDouble();
            double floor = r.GetProperty("floor_ms").GetDouble();
            double bytesFloor = 4.0 * n * d / (r.GetProperty("copy_gbs").GetDouble() * 1e9) * 1e3;
            double flopsFloor = 4.0 * n * d * k / (r.GetProperty("fma_gflops").GetDouble() * 1e9) * 1e3;
            Assert.True(step > 0 && r.GetProperty("epoch_ms").GetDouble() > 0, line);
            Check.Close(Math.Max(bytesFloor, flopsFloor), floor, 0, 1e-6, "floor = max(bytes/bandwidth, FLOPs/rate)");
            Check.Close(step / floor, r.GetProperty("step_over_floor").GetDouble(), 0, 1e-6, "step over floor");
            Assert.Equal(Math.Min(64, n), r.GetProperty("batch").GetInt32());
            kernels.Add(r.GetProperty("kernels").GetString()!);
        }
        Assert.Equal(["fused", "separate", "fused", "separate"], kernels);
    }

    [Fact]
    public void BenchStreamReportsTheStreamedPassBesideAPlainCopy()
    {
        var bench = Run("bench", "--stream", "--device", "cpu", "--json", "--steps", "1", "--device-memory", "16KiB", "700x9x3");
        Assert.True(bench.Code == 0, bench.Err);
        using JsonDocument json = JsonDocument.Parse(bench.Out.Trim());
        JsonElement r = json.RootElement;
        Assert.Equal(16384, r.GetProperty("device_memory").GetInt64());
        int blockRows = r.GetProperty("block_rows").GetInt32();
        Assert.Equal((700 + blockRows - 1) / blockRows, r.GetProperty("blocks").GetInt32());
        Assert.True(r.GetProperty("blocks").GetInt32() > 1, "16 KiB must not hold 700 rows of 10 floats twice");
        Check.Close(r.GetProperty("stream_gbs").GetDouble() / r.GetProperty("copy_gbs").GetDouble(),
            r.GetProperty("ratio").GetDouble(), 0, 1e-6, "ratio = stream / copy");
        Check.Close(4.0 * 700 * 10 / (r.GetProperty("pass_ms").GetDouble() * 1e-3) / 1e9, r.GetProperty("stream_gbs").GetDouble(),
            0, 1e-6, "stream bandwidth = set bytes / pass time");
    }

    [Theory]
    [InlineData("12x0x3", "three positive integers")]
    [InlineData("abc", "three positive integers")]
    [InlineData("10x5x1", "K >= 2")]
    public void BenchRejectsBadShapes(string shape, string message)
    {
        var bench = Run("bench", "--device", "cpu", shape);
        Assert.Equal(1, bench.Code);
        Assert.Contains(message, bench.Err);
    }

    [Fact]
    public void PtxCompilesTheHotKernelsWithoutAGpu()
    {
        string dir = PathOf("ptx");
        var ptx = Run("ptx", "--out", dir);
        Assert.True(ptx.Code == 0, ptx.Err);
        Dictionary<string, string[]> rows = ptx.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(f => string.Join(' ', f.TakeWhile(w => !char.IsDigit(w[0]))), f => f);
        // Columns: name…, instructions, ld.v4, ld, st, ld.shared, st.shared, bar, local, %f registers.
        string[] fused = rows["fused step"];
        string[] copy = rows["copy probe"];
        Assert.True(int.Parse(copy[3]) >= 1, "the copy probe must load 16 bytes at a time: " + string.Join(' ', copy));
        Assert.True(int.Parse(fused[3]) >= 1, "the fused step must stage X with a 16-byte load: " + string.Join(' ', fused));
        Assert.Equal("0", fused[9]); // no local memory
        Assert.Contains(".target", File.ReadAllText(Path.Combine(dir, "fused-step.ptx")));
    }

    [Fact]
    public void TrainWithLbfgsReportsTheObjectiveAndHowItStopped()
    {
        string model = PathOf("lbfgs.model");
        var train = Run("train", "--data", Check.IrisPath, "--model", model, "--optimizer", "lbfgs", "--weight-decay", "0.01");
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("lbfgs: ", train.Out);
        Assert.Contains("objective ", train.Out);
        Assert.True(File.Exists(model));

        var patience = Run("train", "--data", Check.IrisPath, "--model", PathOf("p.model"), "--optimizer", "lbfgs", "--patience", "3");
        Assert.Equal(1, patience.Code);
        Assert.Contains("--patience applies to mini-batch optimizers", patience.Err);
    }

    [Fact]
    public void TrainPredictEvaluateOnIris()
    {
        string model = PathOf("iris.model");
        var train = Run("train", "--data", Check.IrisPath, "--model", model, "--val-fraction", "0.2");
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("device: ", train.Err);
        Assert.Contains("optimizer: newton (auto: a model of 15 parameters (at most 256) on the host engine)", train.Out);
        Assert.Contains("stopped: ", train.Out);
        Assert.DoesNotContain("warning:", train.Err);
        Assert.True(File.Exists(model));

        string predictions = PathOf("predictions.csv");
        var predict = Run("predict", "--model", model, "--data", Check.IrisPath, "--out", predictions, "--proba");
        Assert.True(predict.Code == 0, predict.Err);
        string[] lines = File.ReadAllLines(predictions);
        Assert.Equal("predicted,p_setosa,p_versicolor,p_virginica", lines[0]);
        Assert.Equal(151, lines.Length);
        foreach (string line in lines.Skip(1))
        {
            string[] fields = line.Split(',');
            Assert.Contains(fields[0], new[] { "setosa", "versicolor", "virginica" });
            Assert.InRange(fields.Skip(1).Sum(f => double.Parse(f, System.Globalization.CultureInfo.InvariantCulture)), 1 - 1e-5, 1 + 1e-5);
        }

        var evaluate = Run("evaluate", "--model", model, "--data", Check.IrisPath, "--json");
        Assert.True(evaluate.Code == 0, evaluate.Err);
        using JsonDocument json = JsonDocument.Parse(evaluate.Out);
        Assert.Equal(150, json.RootElement.GetProperty("rows").GetInt32());
        Assert.InRange(json.RootElement.GetProperty("accuracy").GetDouble(), 0.9, 1.0);
        Assert.InRange(json.RootElement.GetProperty("log_loss").GetDouble(), 0.0, 0.5);
        Assert.InRange(json.RootElement.GetProperty("macro_f1").GetDouble(), 0.9, 1.0);

        // The predicted labels agree with the accuracy evaluate reports.
        string[] truth = File.ReadAllLines(Check.IrisPath).Skip(1).Select(l => l.Split(',')[^1]).ToArray();
        double agreement = lines.Skip(1).Select((l, i) => l.Split(',')[0] == truth[i] ? 1.0 : 0.0).Average();
        Assert.Equal(json.RootElement.GetProperty("accuracy").GetDouble(), agreement, 6);

        var report = Run("evaluate", "--model", model, "--data", Check.IrisPath);
        Assert.Contains("confusion", report.Out);
        Assert.Contains("macro-F1", report.Out);
    }

    [Fact]
    public void RedirectedTrainingPrintsAFewEvenlySpacedLinesAndTheSummary()
    {
        var lbfgs = Run("train", "--data", Check.IrisPath, "--model", PathOf("a"));
        Assert.True(lbfgs.Code == 0, lbfgs.Err);
        Assert.InRange(lbfgs.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, 4, 30);
        Assert.Contains("λ = 0.00666667 (1/(C·N) with C = 1", lbfgs.Out);

        var adam = Run("train", "--data", Check.IrisPath, "--model", PathOf("b"), "--optimizer", "adam", "--epochs", "100",
            "--batch-size", "50");
        Assert.True(adam.Code == 0, adam.Err);
        string[] epochs = adam.Out.Split('\n').Where(l => l.StartsWith("epoch ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(Enumerable.Range(0, 21).Select(i => i == 0 ? 1 : 5 * i), epochs.Select(l => int.Parse(l[6..].Split('/')[0])));
        Assert.Contains("adam: 100 epochs; stopped: ran the planned 100 epochs", adam.Out);

        var quiet = Run("train", "--data", Check.IrisPath, "--model", PathOf("c"), "--quiet", "--C", "10");
        Assert.True(quiet.Code == 0, quiet.Err);
        Assert.DoesNotContain(quiet.Out.Split('\n'), l => l.StartsWith("epoch ", StringComparison.Ordinal));
        Assert.Contains("λ = 0.000666667 (1/(C·N) with C = 10", quiet.Out);
    }

    [Fact]
    public void LogJsonHasOneObjectPerIteration()
    {
        string log = PathOf("log.jsonl");
        var train = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--val-fraction", "0.2", "--log-json", log);
        Assert.True(train.Code == 0, train.Err);
        string[] lines = File.ReadAllLines(log);
        int iterations = int.Parse(train.Out.Split("newton: ")[1].Split(' ')[0]);
        Assert.Equal(iterations, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            using JsonDocument json = JsonDocument.Parse(lines[i]);
            Assert.Equal(i + 1, json.RootElement.GetProperty("epoch").GetInt32());
            Assert.True(json.RootElement.GetProperty("objective").GetDouble() > 0);
            Assert.True(json.RootElement.GetProperty("val_loss").GetDouble() > 0);
        }
        // rows_read counts every pass over the training rows, line-search trials included.
        int passes = int.Parse(train.Out.Split(" passes over the data")[0].Split(' ')[^1]);
        int rows = int.Parse(train.Out.Split("data: ")[1].Split(": ")[1].Split(' ')[0]);
        using JsonDocument lastLine = JsonDocument.Parse(lines[^1]);
        Assert.Equal((long)passes * rows, lastLine.RootElement.GetProperty("rows_read").GetInt64());
    }

    [Fact]
    public void TrainPlotDrawsTheCurves()
    {
        string png = PathOf("curves.png");
        var train = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--val-fraction", "0.2", "--plot", png);
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains($"plot: {png}", train.Out);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png)[..4]);

        var badPath = Run("train", "--data", Check.IrisPath, "--model", PathOf("n"), "--plot", PathOf("curves.jpg"));
        Assert.Equal(1, badPath.Code);
        Assert.Contains("--plot must name a .png file", badPath.Err);
        Assert.False(File.Exists(PathOf("n")));
    }

    [Fact]
    public void HittingTheIterationCapIsAWarning()
    {
        var train = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--epochs", "3");
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("stopped: reached the iteration limit (3)", train.Out);
        // Iris on the host engine: auto's Newton (a model of 15 parameters) needs more than 3 iterations from zeros.
        Assert.Contains("warning: newton stopped at its iteration limit (3) before meeting its convergence rule", train.Err);
    }

    [Fact]
    public void ARegisteredOptimizerIsAvailableOnTheCommandLine()
    {
        string name = TestOptimizers.GradientDescent.Name;
        Assert.Contains(name, Run("train", "--help").Out);
        var train = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--optimizer", name, "--lr", "0.5",
            "--batch-size", "0", "--epochs", "30");
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains($"optimizer: {name} (--optimizer)", train.Out);
    }

    [Fact]
    public void InitModelContinuesTrainingOrSaysWhatDiffers()
    {
        string first = PathOf("first.model"), second = PathOf("second.model");
        var train = Run("train", "--data", Check.IrisPath, "--model", first, "--optimizer", "lbfgs", "--epochs", "3");
        Assert.True(train.Code == 0, train.Err);
        var warm = Run("train", "--data", Check.IrisPath, "--model", second, "--init-model", first, "--optimizer", "lbfgs");
        Assert.True(warm.Code == 0, warm.Err);
        Assert.Contains($"init: {first} (3 classes, 4 features; its standardization is kept)", warm.Out);

        string other = PathOf("other.csv");
        File.WriteAllText(other, "a,b,label\n1,2,x\n3,4,y\n");
        var differs = Run("train", "--data", other, "--model", PathOf("w.model"), "--init-model", first);
        Assert.Equal(1, differs.Code);
        Assert.Contains("feature columns differ from the model's 4", differs.Err);
        Assert.False(File.Exists(PathOf("w.model")));
        var missing = Run("train", "--data", Check.IrisPath, "--model", PathOf("m.model"), "--init-model", PathOf("none.model"));
        Assert.Equal(1, missing.Code);
        Assert.Contains("none.model", missing.Err);
    }

    [Fact]
    public void DevicesListsTheCpuAcceleratorAndSaysWhyOthersAreAbsent()
    {
        var result = Run("devices");
        Assert.Equal(0, result.Code);
        Assert.Contains("cpu", result.Out);
        Assert.Contains("max group", result.Out);
        Assert.Contains("host: managed SIMD engine", result.Out);
        foreach (string name in new[] { "cuda", "opencl" })
            Assert.Contains(name, result.Out);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("predict")]
    [InlineData("evaluate")]
    [InlineData("devices")]
    public void HelpDescribesEachCommand(string command)
    {
        var result = Run(command, "--help");
        Assert.Equal(0, result.Code);
        Assert.Contains(command, result.Out);
        if (command != "devices")
            Assert.Contains("--device", result.Out);
    }

    [Fact]
    public void AutoRunsOnTheDeviceThatDevicesSaysItPicks()
    {
        var devices = Run("devices");
        string picked = devices.Out.Split('\n').Single(l => l.Contains("<- auto picks this")).Split(':')[0];
        if (AcceleratorFixture.OpenCLRequired)
        {
            // PoCL is an OpenCL CPU device: present, but auto passes it over for the host engine.
            Assert.Contains("\nopencl: ", "\n" + devices.Out);
            Assert.Equal("host", picked);
        }
        var train = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--epochs", "2");
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains($"device: {picked}: ", train.Err);
        Assert.DoesNotContain("notice:", train.Err);
    }

    [Fact]
    public void AMissingDeviceIsAnErrorListingThosePresent()
    {
        if (Run("devices").Out.Contains("cuda    absent"))
        {
            var result = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--device", "cuda", "--epochs", "1");
            Assert.Equal(1, result.Code);
            Assert.Contains("device 'cuda' is not available", result.Err);
            Assert.Contains("Present: ", result.Err);
            Assert.Contains("cpu (", result.Err);
            Assert.False(File.Exists(PathOf("m")));
        }
        var unknown = Run("train", "--data", Check.IrisPath, "--model", PathOf("m"), "--device", "tpu", "--epochs", "1");
        Assert.Equal(1, unknown.Code);
        Assert.Contains("unknown device 'tpu'", unknown.Err);
    }

    // Each bad training input: exit code 1, a message naming the problem, and no model file.
    [Theory]
    [MemberData(nameof(BadCsv.Inputs), MemberType = typeof(BadCsv))]
    public void BadTrainingDataIsRejected(string name, string? content, string expected)
    {
        string data = content is null ? PathOf("absent.csv") : Write($"{name}.csv", content);
        string model = PathOf("model");
        var result = Run("train", "--data", data, "--model", model, "--epochs", "1");
        Assert.Equal(1, result.Code);
        Assert.Contains(expected, result.Err);
        Assert.Contains(data, result.Err);
        Assert.False(File.Exists(model), "no model may be written on bad input");
    }

    [Fact]
    public void LabelNamingNoColumnIsRejected()
    {
        string data = Write("good.csv", Good);
        var result = Run("train", "--data", data, "--label", "species", "--model", PathOf("model"), "--epochs", "1");
        Assert.Equal(1, result.Code);
        Assert.Contains("no column named 'species' for the labels (--label names it; a model knows its own); the columns are: a, b, label", result.Err);
        Assert.False(File.Exists(PathOf("model")));
    }

    [Theory]
    [InlineData("--lr", "0", "--lr must be > 0, got 0")]
    [InlineData("--lr", "-1", "--lr must be > 0, got -1")]
    [InlineData("--epochs", "0", "--epochs must be > 0, got 0")]
    [InlineData("--epochs", "-3", "--epochs must be > 0, got -3")]
    [InlineData("--batch-size", "-1", "--batch-size must be > 0 (or 0 for full batch), got -1")]
    [InlineData("--val-fraction", "1.5", "--val-fraction must be between 0 and 1")]
    [InlineData("--optimizer", "rmsprop", "--optimizer: 'rmsprop' is not one of adam, auto, ")] // and the test optimizers where registered
    [InlineData("--lr-schedule", "linear", "--lr-schedule: 'linear' is not one of constant or cosine")]
    [InlineData("--C", "0", "--C must be > 0, got 0")]
    [InlineData("--C", "1e-300", "λ = 2.5E+299 (1/(C·N) with C = 1E-300")] // finite, but not as the float the kernels take
    [InlineData("--weight-decay", "-1", "--weight-decay must be >= 0, got -1")]
    [InlineData("--label-smoothing", "1", "--label-smoothing must be in [0, 1), got 1")]
    [InlineData("--label-smoothing", "-0.1", "--label-smoothing must be in [0, 1), got -0.1")]
    public void BadOptionsAreRejectedByName(string option, string value, string expected)
    {
        var result = Run("train", "--data", Write("good.csv", Good), "--model", PathOf("model"), option, value);
        Assert.Equal(1, result.Code);
        Assert.Contains(expected, result.Err);
        Assert.False(File.Exists(PathOf("model")));
    }

    [Fact]
    public void AFitWorseThanZeroWeightsIsWarnedOfAsDiverged()
    {
        // A learning rate far too large: the loss ends thousands of times above ln 3 (it is finite, so nothing stops it).
        var wild = Run("train", "--data", Check.IrisPath, "--model", PathOf("wild"), "--lr", "1e9", "--epochs", "20", "--quiet");
        Assert.True(wild.Code == 0, wild.Err);
        Assert.Matches(@"warning: the training loss \d+\.\d{4} is above 1\.0986, the loss of all-zero weights \(every class alike\): the fit diverged; lower --lr", wild.Err);
        var tame = Run("train", "--data", Check.IrisPath, "--model", PathOf("tame"), "--lr", "0.01", "--epochs", "20", "--quiet");
        Assert.True(tame.Code == 0, tame.Err);
        Assert.DoesNotContain("diverged", tame.Err);
    }

    [Fact]
    public void AnMnistFolderShortOfItsLabelsSaysWhichFile()
    {
        string folder = PathOf("mnist");
        Directory.CreateDirectory(folder);
        var empty = Run("train", "--data", folder, "--model", PathOf("m"));
        Assert.Contains("a folder, but with no MNIST IDX files in it (train-images-idx3-ubyte and train-labels-idx1-ubyte", empty.Err);
        File.WriteAllText(Path.Combine(folder, "train-images-idx3-ubyte"), "");
        var half = Run("train", "--data", folder, "--model", PathOf("m"));
        Assert.Equal(1, half.Code);
        Assert.Contains($"{folder}: a folder with MNIST's train-images file but not its train-labels-idx1-ubyte", half.Err);
    }

    [Fact]
    public void FormatNamesAreTakenInAnyCaseAsTheOtherChoicesAre()
    {
        foreach (string[] options in (string[][])[["--format", "CSV"], ["--scale", "STD"], ["--device", "HOST"], ["--sparse", "Auto"],
                                                  ["--optimizer", "LBFGS"], ["--optimizer", "Adam", "--lr-schedule", "Constant", "--epochs", "2"]])
        {
            var run = Run(["train", "--data", Check.IrisPath, "--model", PathOf("m"), "--quiet", .. options]);
            Assert.True(run.Code == 0, $"{string.Join(' ', options)}: {run.Err}");
        }
    }

    [Fact]
    public void TargetColumnsThatAreNotColumnsAreNamed()
    {
        var run = Run("train", "--data", Check.IrisPath, "--target-columns", "a,b", "--model", PathOf("m"));
        Assert.Equal(1, run.Code);
        Assert.Contains("--target-columns 'a' names no numeric column; the columns are: sepal_length, sepal_width, petal_length, petal_width, species", run.Err);
    }

    [Fact]
    public void TwoClassesSayWhichScikitLearnModelTheyMatch()
    {
        // scikit-learn fits one weight vector for two classes: a softmax of two at C is its model at 2·C.
        var two = Run("train", "--data", Write("two.csv", "a,b,label\n1,2,x\n2,1,y\n3,4,x\n4,3,y\n"), "--model", PathOf("m"));
        Assert.True(two.Code == 0, two.Err);
        Assert.Contains("as scikit-learn's LogisticRegression at 2·C: with two classes it fits one weight vector", two.Out);
        var three = Run("train", "--data", Check.IrisPath, "--model", PathOf("m3"));
        Assert.DoesNotContain("at 2·C", three.Out);
    }

    [Fact]
    public void AValidationFractionThatLeavesNoRowsSaysSo()
    {
        // One row of each class: neither can spare one (it was "0 rows cannot be shared by 1 ranks ... run fewer ranks").
        var result = Run("train", "--data", Write("two.csv", "a,b,label\n1,2,x\n3,4,y\n"), "--model", PathOf("model"), "--val-fraction", "0.5");
        Assert.Equal(1, result.Code);
        Assert.Contains("error: --val-fraction 0.5 of 2 rows leaves no validation rows; give a larger fraction, or more rows", result.Err);
        Assert.DoesNotContain("ranks", result.Err);
        var most = Run("train", "--data", PathOf("two.csv"), "--model", PathOf("model"), "--val-fraction", "0.9");
        Assert.Equal(1, most.Code);
        Assert.Contains("error: --val-fraction 0.9 of 2 rows leaves no training rows; give a smaller fraction, or more rows", most.Err);
    }

    private string TrainSmall()
    {
        string model = PathOf("small.model");
        var result = Run("train", "--data", Write("good.csv", Good), "--model", model, "--epochs", "2");
        Assert.True(result.Code == 0, result.Err);
        return model;
    }

    [Fact]
    public void PredictAndEvaluateRejectDataWithoutTheModelsFeatureColumns()
    {
        string model = TrainSmall();
        string other = Write("other.csv", "a,c,label\n1,2,x\n");
        var predict = Run("predict", "--model", model, "--data", other, "--out", PathOf("p.csv"));
        Assert.Equal(1, predict.Code);
        Assert.Contains($"{other}: the model's feature column(s) 'b' are not in the file; the model reads 2, and the file's " +
                        "columns are: a, c, label", predict.Err);
        Assert.False(File.Exists(PathOf("p.csv")));
        var evaluate = Run("evaluate", "--model", model, "--data", other);
        Assert.Equal(1, evaluate.Code);
        Assert.Contains("the model's feature column(s) 'b' are not in the file", evaluate.Err);
    }

    [Fact]
    public void PredictAcceptsDataWithoutTheLabelColumn()
    {
        string model = TrainSmall();
        var predict = Run("predict", "--model", model, "--data", Write("features.csv", "a,b\n1,2\n4,3\n"), "--out", PathOf("p.csv"));
        Assert.True(predict.Code == 0, predict.Err);
        Assert.Equal(3, File.ReadAllLines(PathOf("p.csv")).Length);
    }

    [Fact]
    public void EvaluateRejectsLabelsTheModelNeverSaw()
    {
        string model = TrainSmall();
        var result = Run("evaluate", "--model", model, "--data", Write("new.csv", "a,b,label\n1,2,x\n3,4,z\n"));
        Assert.Equal(1, result.Code);
        Assert.Contains("label(s) 'z' in column 'label' are not among the model's classes (x, y)", result.Err);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("corrupted")]
    [InlineData("not a model")]
    public void BrokenModelFilesAreRejected(string damage)
    {
        string model = TrainSmall();
        byte[] bytes = File.ReadAllBytes(model);
        byte[] broken = damage switch
        {
            "truncated" => bytes[..(bytes.Length / 2)],
            "corrupted" => bytes.Select((b, i) => i == bytes.Length - 40 ? (byte)(b ^ 0x55) : b).ToArray(),
            _ => "a,b,label\n"u8.ToArray(),
        };
        File.WriteAllBytes(model, broken);
        var result = Run("evaluate", "--model", model, "--data", Write("good.csv", Good));
        Assert.Equal(1, result.Code);
        Assert.Contains(damage == "not a model" ? "not a SoftmaxGpu model file" : "truncated or corrupted", result.Err);
    }
}
