using System.Globalization;
using SoftmaxGpu.Cli;
using SoftmaxGpu.Model;

namespace SoftmaxGpu.Tests;

/// <summary>
/// A model file written by an earlier build (commit 8e7bf1b: `train --optimizer lbfgs --weight-decay 0.0066666667`
/// on iris) still loads, and `predict` gives that build's predictions (its `predict --proba` output, committed
/// beside it) on whichever device runs the tests.
/// </summary>
public sealed class ModelFileCompatibilityTests : IDisposable
{
    private static readonly string Data = Path.Combine(AppContext.BaseDirectory, "data");
    private readonly string folder = Directory.CreateTempSubdirectory("softmaxgpu-compat-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void AModelFromTheEarlierBuildPredictsAsItDid()
    {
        string model = Path.Combine(Data, "iris-8e7bf1b.model");
        SoftmaxModel loaded = ModelFile.Load(model);
        Assert.Equal(["setosa", "versicolor", "virginica"], loaded.Classes);
        Assert.Equal(4, loaded.D);

        string output = Path.Combine(folder, "p.csv");
        var error = new StringWriter();
        int code = App.Run(["predict", "--model", model, "--data", Check.IrisPath, "--out", output, "--proba"], new StringWriter(), error);
        Assert.True(code == 0, error.ToString());
        string[] expected = File.ReadAllLines(Path.Combine(Data, "iris-8e7bf1b-predictions.csv"));
        string[] got = File.ReadAllLines(output);
        Assert.Equal(expected[0], got[0]);
        Assert.Equal(expected.Select(l => l.Split(',')[0]), got.Select(l => l.Split(',')[0]));
        double[] Probabilities(string[] lines) =>
            lines.Skip(1).SelectMany(l => l.Split(',').Skip(1)).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        Check.Close(Probabilities(expected), Probabilities(got).Select(v => (float)v).ToArray(), 1e-6, 1e-5,
            "probabilities of the earlier build vs this one");
    }
}
