using SoftmaxGpu.Training;

namespace SoftmaxGpu.Tests;

/// <summary>Unsupported combinations are one clear error from the capability table before any data is read.</summary>
public sealed class CapabilitiesTests
{
    public static TheoryData<string, string, string> Combinations => new()
    {
        // data (never read: none of these files exist), spec options as name=value, the error
        { "missing.csv", "multi-label|smoothing", "--label-smoothing applies to the softmax cross-entropy" },
        { "missing.csv", "multi-label|class-weight", "multi-label training does not take them yet" },
        { "missing.csv", "multi-label|newton", "--optimizer newton fits the softmax head" },
        { "missing.csv", "target-columns|label", "give --label or --target-columns, not both" },
        { "missing.libsvm", "target-columns", "missing.libsvm is not a CSV file" },
        { "missing.sgd", "val-fraction", "--val-fraction needs the data in memory" },
        { "missing.csv", "val-fraction|val", "give --val or --val-fraction, not both" },
        { "missing.libsvm", "ignore", "--ignore leaves out CSV columns; " },
    };

    [Theory]
    [MemberData(nameof(Combinations))]
    public void AnUnsupportedCombinationIsAnErrorBeforeTheDataIsRead(string data, string given, string expected)
    {
        string[] options = given.Split('|');
        var spec = new TrainingSpec
        {
            Data = Path.Combine(Path.GetTempPath(), "softmaxgpu-capabilities", data),
            MultiLabel = options.Contains("multi-label"),
            Label = options.Contains("label") ? "species" : null,
            Validation = options.Contains("val") ? "also-missing.csv" : null,
            ValidationFraction = options.Contains("val-fraction") ? 0.2 : null,
            Csv = new Data.CsvOptions { Ignore = options.Contains("ignore") ? ["id"] : [] },
            Folds = options.Contains("cv") ? 3 : null,
            Options = new TrainOptions
            {
                LabelSmoothing = options.Contains("smoothing") ? 0.1f : 0,
                Optimizer = options.Contains("newton") ? Optimizers.Newton.Name : Optimizers.Auto,
                ClassWeight = options.Contains("class-weight") ? "balanced" : null,
                WeightColumn = options.Contains("weight-column") ? "w" : null,
                TargetColumns = options.Contains("target-columns") ? ["p", "q"] : null,
            },
        };
        var error = Assert.Throws<ArgumentException>(() => spec.Prepare());
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void AnIgnoredColumnThatIsNotInTheFileIsAnErrorThroughTheLibraryToo()
    {
        var spec = new TrainingSpec { Data = Check.IrisPath, Csv = new Data.CsvOptions { Ignore = ["sepal_lenght"] } };
        var error = Assert.Throws<Data.DataFormatException>(() => spec.Prepare());
        Assert.Contains("--ignore names no column 'sepal_lenght'", error.Message);
    }

    [Fact]
    public void ASupportedSpecGoesOnToReadTheData()
    {
        var spec = new TrainingSpec { Data = Path.Combine(Path.GetTempPath(), "softmaxgpu-capabilities", "missing.csv") };
        Assert.IsNotType<ArgumentException>(Record.Exception(() => spec.Prepare()));
    }

    /// <summary>Choosing C takes every head and target kind of rows in memory, and dense .sgd files of one class per row: these pass the table and go on to read the data.</summary>
    [Theory]
    [InlineData("missing.csv", "multi-label")]
    [InlineData("missing.csv", "class-weight|weight-column")]
    [InlineData("missing.csv", "target-columns|smoothing")]
    [InlineData("missing.libsvm", "class-weight")]
    [InlineData("missing.sgd", "")]
    [InlineData("missing.sgd", "class-weight|smoothing")]
    public void ChoosingCWithAnyHeadOrWeightsGoesOnToReadTheData(string data, string given)
    {
        string[] options = given.Split('|');
        var spec = new TrainingSpec
        {
            Data = Path.Combine(Path.GetTempPath(), "softmaxgpu-capabilities", data),
            MultiLabel = options.Contains("multi-label"),
            Folds = 3,
            Cs = [0.1, 1],
            Options = new TrainOptions
            {
                LabelSmoothing = options.Contains("smoothing") ? 0.1f : 0,
                ClassWeight = options.Contains("class-weight") ? "balanced" : null,
                WeightColumn = options.Contains("weight-column") ? "w" : null,
                TargetColumns = options.Contains("target-columns") ? ["p", "q"] : null,
            },
        };
        Assert.IsNotType<ArgumentException>(Record.Exception(() => spec.Prepare()));
    }
}
