using SoftmaxGpu.Metrics;

namespace SoftmaxGpu.Tests;

/// <summary>The multiclass metrics against values worked by hand, as scikit-learn defines them (zero_division=0).</summary>
public sealed class EvaluationTests
{
    [Fact]
    public void MacroF1AveragesTheClassesThatOccurInTheDataOrThePredictions()
    {
        // One class, every row right: the model's two other classes occur nowhere (scikit-learn: 1.0, not 1/3).
        Assert.Equal(1.0, Evaluation.Compute([0, 0, 0], [0, 0, 0], k: 3, logLoss: 0).MacroF1, 12);

        // Classes 0 and 1 occur: F1 of each is 2·(1·½)/(1 + ½) = 2/3; class 2 occurs nowhere.
        Evaluation twoOfThree = Evaluation.Compute([0, 0, 1], [0, 1, 1], k: 3, logLoss: 0);
        Assert.Equal(2.0 / 3, twoOfThree.MacroF1, 12);
        Assert.Equal([2.0 / 3, 2.0 / 3, 0], twoOfThree.F1);

        // A class in the data that is never predicted is averaged in, at 0: class 0 (precision ½, recall 1) and class 2.
        Assert.Equal(1.0 / 3, Evaluation.Compute([0, 2], [0, 0], k: 3, logLoss: 0).MacroF1, 12);
    }
}
