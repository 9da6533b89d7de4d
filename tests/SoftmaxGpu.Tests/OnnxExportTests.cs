using System.Globalization;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Model;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// The exported ONNX graph, run by ONNX Runtime on raw rows, against our own prediction of the same rows (the host
/// engine): probabilities within <see cref="Tolerance"/>, labels identical. Models are trained here, briefly
/// (the comparison needs a model with spread-out probabilities, not the optimum).
/// </summary>
public sealed class OnnxExportTests(HostFixture fixture) : CliFolder("softmaxgpu-onnx-"), IClassFixture<HostFixture>
{
    /// <summary>Absolute, on probabilities: both sides standardize alike (float64, then float32), and the logits
    /// differ only by float32 summation order.</summary>
    private const double Tolerance = 1e-5;

    private static string DataPath(string file) => Path.Combine(AppContext.BaseDirectory, "data", file);

    [Theory]
    [InlineData("iris.csv")]
    [InlineData("digits.csv")]
    public void OnnxRuntimeGivesPredictsProbabilitiesAndLabels(string file)
    {
        Gpu gpu = fixture.Gpu();
        Table table = DataSource.Load(DataPath(file), null, testSplit: false);
        SoftmaxModel model = Train(gpu, table);
        string onnx = PathOf("model.onnx");
        OnnxExport.Write(model, onnx);

        Prediction ours = Pipeline.Predict(gpu, model, table, withLabels: false);
        (string[] labels, float[] probabilities) = RunOnnx(onnx, table.Features, table.Rows, table.Dim);

        Check.Close(ours.Probabilities.Select(p => (double)p).ToArray(), probabilities, Tolerance, 0, $"{file}: ONNX Runtime's probabilities");
        Assert.Equal(ours.Predicted.Select(c => model.Classes[c]), labels);
        Assert.True(ours.Predicted.Distinct().Count() == model.K, $"{file}: every class should be predicted somewhere");
    }

    /// <summary>
    /// A multi-label model (emotions, six tags) exports with the sigmoid head: ONNX Runtime's per-tag probabilities
    /// match ours within the tolerance and its boolean label matrix is the tag set predict writes at 0.5.
    /// </summary>
    [Fact]
    public void AMultiLabelModelExportsSigmoidProbabilitiesAndTagDecisions()
    {
        Gpu gpu = fixture.Gpu();
        string[] tags = ["amazed-suprised", "happy-pleased", "relaxing-calm", "quiet-still", "sad-lonely", "angry-aggresive"];
        Table table = TagTable.Load(DataPath("emotions.csv"), string.Join(',', tags));
        SoftmaxModel model = TagPipeline.Train(gpu, table, null, ModelKind.MultiLabelColumns, tags,
            new TrainOptions { Optimizer = Optimizers.Lbfgs.Name, Epochs = 10 }).Model;
        string onnx = PathOf("emotions.onnx");
        OnnxExport.Write(model, onnx);

        (float[] ours, _, _) = TagPipeline.Predict(gpu, model, table, withTargets: false);
        using var session = new InferenceSession(onnx);
        Assert.Equal("sigmoid", session.ModelMetadata.CustomMetadataMap["activation"]);
        Assert.Equal(typeof(bool), session.OutputMetadata[OnnxExport.LabelOutput].ElementType);
        using var input = OrtValue.CreateTensorValueFromMemory(table.Features, [table.Rows, table.Dim]);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions,
            [OnnxExport.FeaturesInput], [input], [OnnxExport.LabelOutput, OnnxExport.ProbabilitiesOutput]);
        bool[] decisions = outputs[0].GetTensorDataAsSpan<bool>().ToArray();
        float[] probabilities = outputs[1].GetTensorDataAsSpan<float>().ToArray();

        Check.Close(ours.Select(p => (double)p).ToArray(), probabilities, Tolerance, 0, "emotions: ONNX Runtime's tag probabilities");
        // Decisions where our probability is clearly on one side of 0.5 (a float32 tie at 0.5 may fall either way).
        int compared = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            if (Math.Abs(ours[i] - 0.5) <= Tolerance)
                continue;
            Assert.True(decisions[i] == ours[i] >= 0.5f, $"element {i}: ONNX says {decisions[i]}, our σ(z) is {ours[i]}");
            compared++;
        }
        Assert.True(compared > ours.Length * 0.99, $"only {compared} of {ours.Length} decisions compared");
        Assert.Contains(true, decisions);
        Assert.Contains(false, decisions);
    }

    /// <summary>The comparison above can fail: the same graph with a mean one std off on one feature disagrees.</summary>
    [Fact]
    public void AWrongMeanInTheGraphIsCaught()
    {
        Gpu gpu = fixture.Gpu();
        Table table = DataSource.Load(Check.IrisPath, null, testSplit: false);
        SoftmaxModel model = Train(gpu, table);
        double[] mean = [.. model.Standardizer.Mean];
        mean[2] += model.Standardizer.Std[2];
        var wrong = new SoftmaxModel(model.LabelName, model.Classes, model.FeatureNames,
            new Standardizer(mean, model.Standardizer.Std), model.Weights, model.Bias);
        string onnx = PathOf("wrong.onnx");
        OnnxExport.Write(wrong, onnx);

        Prediction ours = Pipeline.Predict(gpu, model, table, withLabels: false);
        (_, float[] probabilities) = RunOnnx(onnx, table.Features, table.Rows, table.Dim);
        double worst = ours.Probabilities.Zip(probabilities, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst > 100 * Tolerance, $"a shifted mean moved no probability by more than {worst:G3}");
    }

    [Fact]
    public void TheGraphDeclaresASymbolicBatchTheOutputsAndTheNamesInItsMetadata()
    {
        Table table = DataSource.Load(Check.IrisPath, null, testSplit: false);
        SoftmaxModel model = Train(fixture.Gpu(), table);
        string onnx = PathOf("iris.onnx");
        OnnxExport.Write(model, onnx);

        using var session = new InferenceSession(onnx);
        NodeMetadata input = session.InputMetadata[OnnxExport.FeaturesInput];
        Assert.Equal([-1, model.D], input.Dimensions);
        Assert.Equal(OnnxExport.BatchDimension, input.SymbolicDimensions[0]);
        Assert.Equal(typeof(string), session.OutputMetadata[OnnxExport.LabelOutput].ElementType);
        Assert.Equal([-1], session.OutputMetadata[OnnxExport.LabelOutput].Dimensions);
        Assert.Equal([-1, model.K], session.OutputMetadata[OnnxExport.ProbabilitiesOutput].Dimensions);
        Dictionary<string, string> metadata = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal(model.FeatureNames, JsonSerializer.Deserialize<string[]>(metadata["feature_names"]));
        Assert.Equal(model.Classes, JsonSerializer.Deserialize<string[]>(metadata["class_names"]));
        Assert.Equal(model.LabelName, metadata["label_name"]);
        Assert.Equal("softmax", metadata["activation"]);

        // One row through the same file: the batch really is free.
        (string[] one, _) = RunOnnx(onnx, table.Features[..model.D], 1, model.D);
        Assert.Single(one);
    }

    /// <summary>As a user does it: train, export and predict --proba on the command line, then ONNX Runtime on the CSV's rows.</summary>
    [Fact]
    public void TheExportCommandWritesWhatPredictPredicts()
    {
        string modelPath = PathOf("iris.model"), onnx = PathOf("iris.onnx"), predictions = PathOf("p.csv");
        var train = Run("train", "--data", Check.IrisPath, "--model", modelPath, "--epochs", "5", "--quiet", "--device", "host");
        Assert.True(train.Code == 0, train.Err);
        var export = Run("export", "--model", modelPath, "--onnx", onnx);
        Assert.True(export.Code == 0, export.Err);
        Assert.Contains($"opset {OnnxExport.Opset}", export.Out);
        var predict = Run("predict", "--model", modelPath, "--data", Check.IrisPath, "--out", predictions, "--proba", "--device", "host");
        Assert.True(predict.Code == 0, predict.Err);

        string[][] rows = File.ReadAllLines(predictions).Skip(1).Select(line => line.Split(',')).ToArray();
        Table table = DataSource.Load(Check.IrisPath, null, testSplit: false);
        (string[] labels, float[] probabilities) = RunOnnx(onnx, table.Features, table.Rows, table.Dim);
        Assert.Equal(rows.Select(r => r[0]), labels);
        Check.Close(rows.SelectMany(r => r.Skip(1).Select(p => double.Parse(p, CultureInfo.InvariantCulture))).ToArray(),
            probabilities, Tolerance, 0, "ONNX Runtime beside predict --proba");
    }

    [Fact]
    public void ExportSaysWhatIsWrongAndWritesNothing()
    {
        string onnx = PathOf("x.onnx");
        var missing = Run("export", "--model", PathOf("none.model"), "--onnx", onnx);
        Assert.Equal(1, missing.Code);
        Assert.Contains("error: " + PathOf("none.model") + ": model file not found", missing.Err);

        File.WriteAllBytes(PathOf("bad.model"), File.ReadAllBytes(DataPath("iris-8e7bf1b.model"))[..100]);
        var corrupt = Run("export", "--model", PathOf("bad.model"), "--onnx", onnx);
        Assert.Equal(1, corrupt.Code);
        Assert.Contains("checksum mismatch", corrupt.Err);

        string folder = PathOf("no-such-folder");
        var noFolder = Run("export", "--model", DataPath("iris-8e7bf1b.model"), "--onnx", Path.Combine(folder, "x.onnx"));
        Assert.Equal(1, noFolder.Code);
        Assert.Contains($"error: --onnx: {folder} does not exist", noFolder.Err);
        Assert.Equal(["bad.model"], Directory.GetFiles(Folder).Select(Path.GetFileName));
    }

    /// <summary>A few L-BFGS iterations: enough for confident, distinct predictions, far from the optimum's cost.</summary>
    private static SoftmaxModel Train(Gpu gpu, Table table) =>
        Pipeline.Train(gpu, table, null, new TrainOptions { Optimizer = Optimizers.Lbfgs.Name, Epochs = 10 }).Model;

    /// <summary>ONNX Runtime on X: [rows, D] raw features; the label [rows] and probabilities [rows, K] outputs.</summary>
    private static (string[] Labels, float[] Probabilities) RunOnnx(string onnx, float[] features, int rows, int dim)
    {
        using var session = new InferenceSession(onnx);
        using var input = OrtValue.CreateTensorValueFromMemory(features, [rows, dim]);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(runOptions,
            [OnnxExport.FeaturesInput], [input], [OnnxExport.LabelOutput, OnnxExport.ProbabilitiesOutput]);
        return (outputs[0].GetStringTensorAsArray(), outputs[1].GetTensorDataAsSpan<float>().ToArray());
    }
}
