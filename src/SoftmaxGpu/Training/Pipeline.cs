using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Data;
using SoftmaxGpu.Devices;
using SoftmaxGpu.Model;

namespace SoftmaxGpu.Training;

/// <summary>
/// From tables to a model and back: encode classes, standardize with the training statistics, train on the
/// device, and predict on the device with a saved model.
/// </summary>
public static class Pipeline
{
    public static (SoftmaxModel Model, TrainResult Result) Train(Gpu gpu, Table train, Table? validation,
        TrainOptions options, Action<EpochReport>? onEpoch = null)
    {
        string[] classes = train.DistinctClasses();
        if (classes.Length < 2)
            throw Table.OneClass(train.Source, train.LabelName, classes[0]);
        if (validation is not null && !validation.FeatureNames.SequenceEqual(train.FeatureNames, StringComparer.Ordinal))
            throw new DataFormatException(
                $"{validation.Source}: feature columns differ from the training data's ({string.Join(", ", train.FeatureNames)})");

        Standardizer standardizer = Standardizer.Fit(train.Features, train.Rows, train.Dim);
        EncodedSet trainSet = Encode(train, classes, standardizer);
        EncodedSet? validationSet = validation is null ? null : Encode(validation, classes, standardizer);

        TrainResult result = Trainer.Train(gpu, trainSet, validationSet, classes.Length, options, onEpoch);
        int kd = classes.Length * train.Dim;
        var model = new SoftmaxModel(train.LabelName, classes, train.FeatureNames, standardizer,
            result.Theta[..kd], result.Theta[kd..]);
        return (model, result);
    }

    /// <summary>
    /// Trains on a .sgd dataset file without loading it: classes, feature names and standardization come from its
    /// footer, and its rows stream from disk in blocks (resident on the device where they fit, streamed through it
    /// where they do not). The validation set, where given, is a table or another .sgd file.
    /// </summary>
    public static (SoftmaxModel Model, TrainResult Result) Train(Gpu gpu, SgdReader train, Table? validationTable,
        SgdReader? validationFile, TrainOptions options, Action<EpochReport>? onEpoch = null)
    {
        string[] classes = train.ClassNames;
        if (classes.Length < 2)
            throw Table.OneClass(train.Path, train.LabelName, classes[0]);
        string[]? validationFeatures = validationTable?.FeatureNames ?? validationFile?.FeatureNames;
        if (validationFeatures is not null && !validationFeatures.SequenceEqual(train.FeatureNames, StringComparer.Ordinal))
            throw new DataFormatException(
                $"{validationTable?.Source ?? validationFile!.Path}: feature columns differ from the training data's " +
                $"({string.Join(", ", train.FeatureNames)})");

        Standardizer standardizer = train.Standardizer();
        IRowSource? validation = validationTable is not null ? Encode(validationTable, classes, standardizer)
            : validationFile is not null ? new SgdRowSource(validationFile, standardizer, classes)
            : null;
        TrainResult result = Trainer.Train(gpu, new SgdRowSource(train, standardizer, classes), validation, classes.Length,
            options, onEpoch);
        int kd = classes.Length * train.Dim;
        var model = new SoftmaxModel(train.LabelName, classes, train.FeatureNames, standardizer,
            result.Theta[..kd], result.Theta[kd..]);
        return (model, result);
    }

    public static EncodedSet Encode(Table table, IReadOnlyList<string> classes, Standardizer standardizer) =>
        new(standardizer.Apply(table.Features), table.Encode(classes), null, table.Rows, table.Dim);

    /// <summary>Runs the model over every row of <paramref name="table"/> on the device, in blocks.</summary>
    /// <param name="withLabels">Also compute the mean loss against the table's labels.</param>
    public static Prediction Predict(Gpu gpu, SoftmaxModel model, Table table, bool withLabels)
    {
        model.CheckColumns(table);
        int n = table.Rows;
        int k = model.K;
        int[] labels = withLabels ? table.Encode(model.Classes) : [];
        Accelerator accelerator = gpu.Accelerator;

        using var x = accelerator.Allocate1D(model.Standardizer.Apply(table.Features));
        using var y = accelerator.Allocate1D<int>(Math.Max(1, labels.Length)); // ILGPU cannot allocate zero elements
        if (withLabels)
            y.View.SubView(0, labels.Length).CopyFromCPU(labels);
        using var predicted = accelerator.Allocate1D<int>(n);
        // Forward blocks only: no gradient batch (1 row), evaluation blocks sized for the table.
        using var engine = new GradientEngine(gpu, SoftmaxCrossEntropy.Instance, model.D, k, batchRows: 1, evaluationRows: n);
        engine.Weights.CopyFromCPU(model.Weights);
        engine.Bias.CopyFromCPU(model.Bias);

        var probabilities = new float[(long)n * k];
        engine.ResetTotals();
        engine.ForEachBlock(x.View, n, withLabels ? y.View.SubView(0, n) : default, default, 1f / n,
            (start, rows, logits, outputs) =>
            {
                engine.Argmax(logits, rows, predicted.View.SubView(start, rows));
                outputs.CopyToCPU(probabilities.AsSpan((int)((long)start * k), rows * k));
            });
        double? loss = withLabels ? engine.ReadTotals().Loss : null;
        return new Prediction(probabilities, predicted.GetAsArray1D(), loss);
    }
}
