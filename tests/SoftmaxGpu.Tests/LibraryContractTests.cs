using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Metrics;
using SoftmaxGpu.Model;
using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>
/// The library refuses a caller's mistake with a clear exception where it used to answer wrongly or fail inside (each
/// case found by using the library as a .NET developer would): what the CLI checks, the library checks too.
/// </summary>
public sealed class LibraryContractTests(HostFixture fixture) : IClassFixture<HostFixture>, IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("softmaxgpu-library-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private SoftmaxModel IrisModel()
    {
        using PreparedTraining run = new TrainingSpec { Data = Check.IrisPath, Options = new TrainOptions() }.Prepare();
        return run.Train(fixture.Gpu()).Model;
    }

    [Fact]
    public void ScoringRowsReadWithoutTheirLabelsIsAnError()
    {
        SoftmaxModel model = IrisModel();
        (IRowSource rows, IDisposable? file) = Pipeline.RowsFor(model, Check.IrisPath); // labelsNeeded: false
        using (file)
        {
            var error = Assert.Throws<ArgumentException>(() => Pipeline.Predict(fixture.Gpu(), model, rows, withLabels: true, _ => { }));
            Assert.Contains("read them with Pipeline.RowsFor(model, data, labelsNeeded: true)", error.Message);
        }
        (IRowSource labelled, IDisposable? labelledFile) = Pipeline.RowsFor(model, Check.IrisPath, labelsNeeded: true);
        using (labelledFile)
        {
            var confusion = new long[model.K, model.K];
            double? loss = Pipeline.Predict(fixture.Gpu(), model, labelled, withLabels: true,
                block => Evaluation.Count(block.Labels, block.Predicted, block.Rows, confusion));
            Assert.InRange(Evaluation.FromConfusion(confusion, loss!.Value).Accuracy, 0.95, 1.0);
        }
    }

    [Fact]
    public void ASessionRefusesClassIndicesBeyondKAndUseAfterDispose()
    {
        (EncodedSet iris, int k) = TrainingTests.Iris();
        var tooFew = Assert.Throws<ArgumentException>(() => new TrainingSession(fixture.Gpu(), iris, null, k - 1, new TrainOptions()));
        Assert.Contains($"class index {k - 1}", tooFew.Message);
        var session = new TrainingSession(fixture.Gpu(), iris, null, k, new TrainOptions { Optimizer = "lbfgs" });
        session.Dispose();
        session.Dispose(); // twice: nothing
        Assert.Throws<ObjectDisposedException>(() => session.Fit(new TrainOptions { Optimizer = "lbfgs" }));
    }

    [Fact]
    public void PatienceAndMiniBatchOptimizersAreRefusedWhereTheyCannotApply()
    {
        var noValidation = new TrainingSpec { Data = Check.IrisPath, Options = new TrainOptions { Optimizer = "adam", Patience = 1 } };
        Assert.Contains("give validation data", Assert.Throws<ArgumentException>(noValidation.Prepare).Message);
        var search = new TrainingSpec { Data = Check.IrisPath, Cs = [0.1, 1], Folds = 3, Options = new TrainOptions { Patience = 2 } };
        Assert.Contains("leave out --patience", Assert.Throws<ArgumentException>(search.Prepare).Message);
        var nan = new TrainingSpec { Data = Check.IrisPath, ValidationFraction = double.NaN, Options = new TrainOptions() };
        Assert.Contains("--val-fraction must be between 0 and 1", Assert.Throws<ArgumentException>(nan.Prepare).Message);

        Table iris = CsvTableReader.Read(Check.IrisPath);
        var adam = Assert.Throws<ArgumentException>(() =>
            Pipeline.TrainPath(fixture.Gpu(), iris, null, new TrainOptions { Optimizer = "adam" }, [0.1, 1], 3, PathScore.Accuracy));
        Assert.Contains("fits each value to its optimum with newton or lbfgs, not adam", adam.Message);
        var nowhere = Assert.Throws<ArgumentException>(() =>
            Pipeline.TrainPath(fixture.Gpu(), iris, null, new TrainOptions(), [0.1, 1], folds: null, PathScore.Accuracy));
        Assert.Contains("give folds (--cv K) or a validation table", nowhere.Message);
    }

    [Fact]
    public void SavesOfOneFileFromManyThreadsTakeTurnsAndAFolderIsRefused()
    {
        SoftmaxModel model = IrisModel();
        string path = Path.Combine(folder, "same.model");
        Parallel.For(0, 8, _ => ModelFile.Save(model, path)); // one temporary file name a target: they take turns
        Assert.Equal(model.Weights, ModelFile.Load(path).Weights);
        Assert.Single(Directory.GetFiles(folder)); // and leave nothing beside it
        Assert.Contains("a folder, not a file to write", Assert.Throws<DataFormatException>(() => ModelFile.Save(model, folder)).Message);
        Assert.Throws<ArgumentNullException>(() => ModelFile.Save(model, null!));
        Assert.Throws<ArgumentNullException>(() => ModelFile.Load(null!));
    }

    [Fact]
    public void AMultiLabelModelIsNotScoredByClass()
    {
        string data = Path.Combine(folder, "tags.csv");
        File.WriteAllText(data, "x1,x2,tags\n0,1,a|b\n1,0,a\n0.5,0.5,b\n1,1,\n0.2,0.9,a|b\n");
        using PreparedTraining run = new TrainingSpec { Data = data, MultiLabel = true, Label = "tags", Options = new TrainOptions { Epochs = 3 } }.Prepare();
        SoftmaxModel tags = run.Train(fixture.Gpu()).Model;
        var error = Assert.Throws<ArgumentException>(() => Pipeline.RowsFor(tags, data, labelsNeeded: true));
        Assert.Contains("a multi-label model's rows are scored by their tags", error.Message);
    }

    [Fact]
    public void AnEmptyTableIsNoRowsToTrainOn()
    {
        var empty = new Table("empty", ["a"], "y", [], []);
        Assert.Contains("no rows to train on", Assert.Throws<DataFormatException>(() =>
            Pipeline.Train(fixture.Gpu(), empty, null, new TrainOptions())).Message);
    }
}
