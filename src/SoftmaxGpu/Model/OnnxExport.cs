using System.Text.Json;
using Google.Protobuf;
using Onnx;
using SoftmaxGpu.Data;
using DataType = Onnx.TensorProto.Types.DataType;

namespace SoftmaxGpu.Model;

/// <summary>
/// What turns the exported logits z: [N, K] into the outputs <c>probabilities</c> and <c>label</c>. Each member
/// has one head in <see cref="OnnxExport"/> (a method, and a line in its switch).
/// </summary>
public enum OnnxActivation
{
    /// <summary>probabilities = softmax(z) across the K classes; label = the class of the largest logit.</summary>
    Softmax,
    /// <summary>Multi-label: probabilities = σ(z) per tag; label [N, K] bool = σ(z) ≥ 0.5 (z ≥ 0), tags in class order.</summary>
    Sigmoid,
}

/// <summary>
/// Exports a <see cref="SoftmaxModel"/> as an ONNX model that ONNX Runtime (or any runtime of opset
/// <see cref="Opset"/>) runs on raw feature rows, giving the probabilities and labels <c>predict</c> gives:
/// <code>
///   features        [N, D] float, the input; N is symbolic
///   x' = Cast(Div(Sub(Cast(features, double), mean), std), float)     mean, std: [D] double
///   z  = Gemm(x', W, b, transB = 1)                                   logits [N, K]; W: [K, D], b: [K]
///   probabilities = Softmax(z, axis = 1)                              [N, K] float   } the head, chosen
///   label = Gather(classes, ArgMax(z, axis = 1, keepdims = 0))        [N] string     } by OnnxActivation
/// </code>
/// A multi-label model's head is Sigmoid instead: probabilities = Sigmoid(z) [N, K], and label = GreaterOrEqual(z, 0)
/// [N, K] bool, the tags predicted at the default threshold 0.5 (their names: class_names below).
/// The model's metadata_props carry <c>label_name</c>, <c>feature_names</c> and <c>class_names</c> (the two
/// lists as JSON arrays of strings, in column and class-index order) and <c>activation</c>.
/// </summary>
public static class OnnxExport
{
    /// <summary>The ai.onnx opset the graph is written for: ONNX 1.12's, run by ONNX Runtime 1.12 and later.</summary>
    public const int Opset = 17;
    /// <summary>IR version 8 (ONNX 1.12, the release that brought opset 17).</summary>
    public const long IrVersion = 8;
    public const string FeaturesInput = "features";
    public const string ProbabilitiesOutput = "probabilities";
    public const string LabelOutput = "label";
    /// <summary>The symbolic batch dimension of the input and of both outputs.</summary>
    public const string BatchDimension = "N";

    /// <summary>Writes the ONNX model to <paramref name="path"/> whole or not at all (<see cref="AtomicFile"/>).</summary>
    /// <param name="activation">The head; null: the model's own (softmax, or sigmoid for a multi-label model).</param>
    public static void Write(SoftmaxModel model, string path, OnnxActivation? activation = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(path);
        ModelProto proto = Build(model, activation);
        AtomicFile.Write(path, stream => proto.WriteTo(stream));
    }

    /// <summary>The ONNX model's bytes (a serialized ModelProto).</summary>
    public static byte[] ToBytes(SoftmaxModel model, OnnxActivation? activation = null) =>
        Build(model, activation).ToByteArray();

    /// <summary>The head a model's outputs need: softmax for one class per row, sigmoid for tags.</summary>
    public static OnnxActivation ActivationOf(SoftmaxModel model) =>
        model.Kind.IsMultiLabel() ? OnnxActivation.Sigmoid : OnnxActivation.Softmax;

    internal static ModelProto Build(SoftmaxModel model, OnnxActivation? given)
    {
        OnnxActivation activation = given ?? ActivationOf(model);
        Action<OnnxGraph, string, SoftmaxModel> head = activation switch
        {
            OnnxActivation.Softmax => SoftmaxHead,
            OnnxActivation.Sigmoid => SigmoidHead,
            _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "no ONNX head for this activation"),
        };
        var graph = new OnnxGraph("softmaxgpu");
        graph.Input(FeaturesInput, DataType.Float, BatchDimension, model.D);
        string standardized = Standardize(graph, FeaturesInput, model.Standardizer);
        string weights = graph.Floats("W", [model.K, model.D], model.Weights);
        string bias = graph.Floats("b", [model.K], model.Bias);
        string logits = graph.Node("Gemm", [standardized, weights, bias], "logits", OnnxGraph.Int("transB", 1));
        head(graph, logits, model);
        return Model(graph, model, activation);
    }

    /// <summary>
    /// x' = (x − mean) / std, computed in float64 and rounded to float32 once, as <see cref="Standardizer.Apply"/>
    /// does: the exported graph standardizes bit for bit as <c>predict</c> does.
    /// </summary>
    private static string Standardize(OnnxGraph graph, string features, Standardizer standardizer)
    {
        long d = standardizer.Mean.Length;
        string wide = graph.Node("Cast", [features], "features_f64", OnnxGraph.Int("to", (long)DataType.Double));
        string centred = graph.Node("Sub", [wide, graph.Doubles("mean", [d], standardizer.Mean)], "centred");
        string scaled = graph.Node("Div", [centred, graph.Doubles("std", [d], standardizer.Std)], "standardized_f64");
        return graph.Node("Cast", [scaled], "standardized", OnnxGraph.Int("to", (long)DataType.Float));
    }

    /// <summary>Softmax: probabilities [N, K] across the classes; label [N] = classes[argmax z] (first of ties).</summary>
    private static void SoftmaxHead(OnnxGraph graph, string logits, SoftmaxModel model)
    {
        graph.Node("Softmax", [logits], ProbabilitiesOutput, OnnxGraph.Int("axis", 1));
        string index = graph.Node("ArgMax", [logits], "class_index", OnnxGraph.Int("axis", 1), OnnxGraph.Int("keepdims", 0));
        string classes = graph.Strings("classes", [model.K], model.Classes);
        graph.Node("Gather", [classes, index], LabelOutput, OnnxGraph.Int("axis", 0));
        graph.Output(LabelOutput, DataType.String, BatchDimension);
        graph.Output(ProbabilitiesOutput, DataType.Float, BatchDimension, model.K);
    }

    /// <summary>Sigmoid: probabilities [N, K] = σ(z) per tag; label [N, K] bool = z ≥ 0, i.e. σ(z) ≥ 0.5.</summary>
    private static void SigmoidHead(OnnxGraph graph, string logits, SoftmaxModel model)
    {
        graph.Node("Sigmoid", [logits], ProbabilitiesOutput);
        graph.Node("GreaterOrEqual", [logits, graph.Floats("zero", [], [0f])], LabelOutput);
        graph.Output(LabelOutput, DataType.Bool, BatchDimension, model.K);
        graph.Output(ProbabilitiesOutput, DataType.Float, BatchDimension, model.K);
    }

    private static ModelProto Model(OnnxGraph graph, SoftmaxModel model, OnnxActivation activation)
    {
        var proto = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "softmaxgpu",
            ProducerVersion = typeof(OnnxExport).Assembly.GetName().Version?.ToString(3) ?? "",
            DocString = $"{(model.Kind.IsMultiLabel() ? "Multi-label logistic regression" : "Softmax regression")} exported by SoftmaxGpu: x' = (x - mean)/std, z = W x' + b, " +
                        $"{activation.ToString().ToLowerInvariant()}(z); label column '{model.LabelName}'.",
            Graph = graph.Proto,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        proto.MetadataProps.Add(Entry("label_name", model.LabelName));
        proto.MetadataProps.Add(Entry("feature_names", JsonSerializer.Serialize(model.FeatureNames)));
        proto.MetadataProps.Add(Entry("class_names", JsonSerializer.Serialize(model.Classes)));
        proto.MetadataProps.Add(Entry("activation", activation.ToString().ToLowerInvariant()));
        return proto;
    }

    private static StringStringEntryProto Entry(string key, string value) => new() { Key = key, Value = value };
}
