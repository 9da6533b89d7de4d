using SoftmaxGpu.Data;
using SoftmaxGpu.Model;

namespace SoftmaxGpu.Tests;

/// <summary>Readers, split, standardization and the model file, on small files written here.</summary>
public sealed class DataTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("softmaxgpu-data-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void IntegerLabelsAreOrderedNumericallyAndTextOrdinally()
    {
        string path = Path.Combine(folder, "numbers.csv");
        File.WriteAllText(path, "f,label\n1,10\n2,9\n3,2\n");
        Assert.Equal(["2", "9", "10"], CsvTableReader.Read(path).DistinctClasses());
        File.WriteAllText(path, "f,label\n1,b\n2,a\n3,B\n");
        Assert.Equal(["B", "a", "b"], CsvTableReader.Read(path).DistinctClasses());
    }

    [Fact]
    public void LabelColumnMayBeAnyColumn()
    {
        string path = Path.Combine(folder, "first.csv");
        File.WriteAllText(path, "kind,x,y\ncat,1,2\ndog,3,4\n");
        Table table = CsvTableReader.Read(path, "kind");
        Assert.Equal(["x", "y"], table.FeatureNames);
        Assert.Equal([1f, 2f, 3f, 4f], table.Features);
        Assert.Equal(["cat", "dog"], table.Labels);
    }

    [Fact]
    public void ACsvBeyondOneArrayIsAnErrorThatPointsToConvert()
    {
        string path = Path.Combine(folder, "wide.csv");
        File.WriteAllText(path, "a,b,label\n1,2,x\n3,4,y\n5,6,x\n");
        Assert.Equal(6, CsvTableReader.Read(path, maxValues: 6).Features.Length);
        var error = Assert.Throws<DataFormatException>(() => CsvTableReader.Read(path, maxValues: 5));
        Assert.Contains("more than 5 feature values (row 3 of 2 features)", error.Message);
        Assert.Contains("softmaxgpu convert", error.Message);
    }

    [Fact]
    public void IdxFilesReadAsScaledPixels()
    {
        // Two 2×3 images and their labels, in IDX's big-endian layout.
        byte[] images = [0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 0];
        byte[] labels = [0, 0, 8, 1, 0, 0, 0, 2, 7, 3];
        File.WriteAllBytes(Path.Combine(folder, "train-images-idx3-ubyte"), images);
        File.WriteAllBytes(Path.Combine(folder, "train-labels-idx1-ubyte"), labels);
        Table table = DataSource.Load(folder, null, testSplit: false);
        Assert.Equal(6, table.Dim);
        Assert.Equal(["7", "3"], table.Labels);
        Assert.Equal([0f, 0.2f, 0.4f, 0.6f, 0.8f, 1f], table.Features[..6]);
        var missing = Assert.Throws<DataFormatException>(() => DataSource.Load(folder, null, testSplit: true));
        Assert.Contains("t10k", missing.Message);
    }

    [Fact]
    public void StratifiedSplitKeepsEachClassFractionAndIsSeeded()
    {
        int[] classes = [.. Enumerable.Repeat(0, 40), .. Enumerable.Repeat(1, 20), .. Enumerable.Repeat(2, 3)];
        (int[] train, int[] validation) = Split.Stratified(classes, 0.25, seed: 5);
        Assert.Equal(10, validation.Count(r => classes[r] == 0));
        Assert.Equal(5, validation.Count(r => classes[r] == 1));
        Assert.Equal(1, validation.Count(r => classes[r] == 2));
        Assert.Equal(Enumerable.Range(0, classes.Length), train.Concat(validation).Order());
        Assert.Equal(validation, Split.Stratified(classes, 0.25, seed: 5).Validation);
        Assert.NotEqual(validation, Split.Stratified(classes, 0.25, seed: 6).Validation);
    }

    [Fact]
    public void StandardizerUsesTrainingMeanAndStdAndLeavesConstantsAtZero()
    {
        float[] x = [1, 5, 3, 5, 5, 5]; // 3 rows × 2 features; the second is constant
        Standardizer s = Standardizer.Fit(x, 3, 2);
        Assert.Equal([3.0, 5.0], s.Mean);
        Assert.Equal(Math.Sqrt(8.0 / 3), s.Std[0], 12);
        Assert.Equal(1.0, s.Std[1]);
        float[] z = s.Apply(x);
        Assert.Equal(0f, z[1]);
        Assert.Equal(-2 / Math.Sqrt(8.0 / 3), z[0], 6);
    }

    [Fact]
    public void ModelFileRoundTripsAndRejectsOtherVersions()
    {
        var model = new SoftmaxModel("label", ["a", "ü"], ["f1", "f2", "f3"],
            new Standardizer([1, 2, 3], [0.5, 1, 2]), [1, 2, 3, 4, 5, 6], [0.25f, -0.25f]);
        string path = Path.Combine(folder, "m.model");
        ModelFile.Save(model, path);
        SoftmaxModel loaded = ModelFile.Load(path);
        Assert.Equal(model.Classes, loaded.Classes);
        Assert.Equal(model.FeatureNames, loaded.FeatureNames);
        Assert.Equal(model.Standardizer.Mean, loaded.Standardizer.Mean);
        Assert.Equal(model.Standardizer.Std, loaded.Standardizer.Std);
        Assert.Equal(model.Weights, loaded.Weights);
        Assert.Equal(model.Bias, loaded.Bias);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
        Assert.Equal(ModelKind.Multiclass, loaded.Kind);

        byte[] bytes = File.ReadAllBytes(path);
        bytes[8] = 0; // format version 0: never written
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<DataFormatException>(() => ModelFile.Load(path));
        Assert.Contains($"model format version 0; this build reads versions 1 to {ModelFile.Version}", error.Message);
    }
}
