using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace SoftmaxGpu.Model;

/// <summary>
/// An ONNX graph being built, one call per node or tensor, so that <see cref="OnnxExport"/> reads as the list of
/// operations it exports. Every value is named by a string; each node is named after its output. The types are
/// the ones generated from ONNX's own schema (Model/Onnx/onnx.proto) and serialized by Google.Protobuf.
/// </summary>
internal sealed class OnnxGraph(string name)
{
    public GraphProto Proto { get; } = new() { Name = name };

    /// <summary>A graph input: a tensor of <paramref name="type"/>, [<paramref name="batch"/>, columns…].</summary>
    public void Input(string value, DataType type, string batch, params long[] columns) =>
        Proto.Input.Add(Value(value, type, batch, columns));

    /// <summary>A graph output, typed as <see cref="Input"/> is.</summary>
    public void Output(string value, DataType type, string batch, params long[] columns) =>
        Proto.Output.Add(Value(value, type, batch, columns));

    /// <summary>Adds the node <c>output = op(inputs…)</c> in the default (ai.onnx) domain; returns its output's name.</summary>
    public string Node(string op, string[] inputs, string output, params AttributeProto[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.Add(inputs);
        node.Output.Add(output);
        node.Attribute.Add(attributes);
        Proto.Node.Add(node);
        return output;
    }

    /// <summary>A float32 constant of shape <paramref name="dims"/> (row-major); returns its name.</summary>
    public string Floats(string value, long[] dims, float[] data)
    {
        TensorProto tensor = Tensor(value, DataType.Float, dims, data.LongLength);
        tensor.FloatData.Add(data);
        return Initializer(tensor);
    }

    /// <summary>A float64 constant of shape <paramref name="dims"/>; returns its name.</summary>
    public string Doubles(string value, long[] dims, double[] data)
    {
        TensorProto tensor = Tensor(value, DataType.Double, dims, data.LongLength);
        tensor.DoubleData.Add(data);
        return Initializer(tensor);
    }

    /// <summary>A string constant of shape <paramref name="dims"/> (UTF-8, as ONNX stores strings); returns its name.</summary>
    public string Strings(string value, long[] dims, string[] data)
    {
        TensorProto tensor = Tensor(value, DataType.String, dims, data.LongLength);
        tensor.StringData.Add(data.Select(ByteString.CopyFromUtf8));
        return Initializer(tensor);
    }

    public static AttributeProto Int(string attribute, long value) =>
        new() { Name = attribute, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private string Initializer(TensorProto tensor)
    {
        Proto.Initializer.Add(tensor);
        return tensor.Name;
    }

    private static TensorProto Tensor(string value, DataType type, long[] dims, long count)
    {
        if (dims.Aggregate(1L, (product, dim) => product * dim) != count)
            throw new ArgumentException($"{value}: {count} values do not fill the shape [{string.Join(", ", dims)}]");
        var tensor = new TensorProto { Name = value, DataType = (int)type };
        tensor.Dims.Add(dims);
        return tensor;
    }

    /// <summary>A tensor's name and type: [batch (symbolic), columns… (fixed)].</summary>
    private static ValueInfoProto Value(string value, DataType type, string batch, long[] columns)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = batch });
        foreach (long column in columns)
            shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = column });
        return new ValueInfoProto
        {
            Name = value,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }
}
