namespace SoftmaxGpu.Training;

/// <summary>One named block of θ: <see cref="Length"/> parameters from <see cref="Offset"/>, shaped <see cref="Shape"/> (row-major).</summary>
public sealed record ParameterBlock(string Name, long Offset, int[] Shape)
{
    public long Length => Shape.Aggregate(1L, (n, s) => n * s);
}

/// <summary>
/// θ as named views over one flat vector, as llm.c's ParameterTensors: optimizers see θ flat, while a model, a
/// penalty or a layer finds its block by name. The linear model's θ is [W (K·D) | b (K)]: weights first, biases
/// last, so penalties over the weights cover one prefix of θ.
/// </summary>
public sealed class ParameterLayout
{
    /// <summary>W: [K, D], the weights of the linear model.</summary>
    public const string Weights = "W";
    /// <summary>b: [K], its biases (never penalized).</summary>
    public const string Bias = "b";

    private readonly ParameterBlock[] blocks;

    private ParameterLayout(ParameterBlock[] blocks) => this.blocks = blocks;

    /// <summary>θ = [W (K·D) | b (K)] of the linear model z = W·x + b.</summary>
    public static ParameterLayout Linear(int k, int d) =>
        new([new ParameterBlock(Weights, 0, [k, d]), new ParameterBlock(Bias, (long)k * d, [k])]);

    public IReadOnlyList<ParameterBlock> Blocks => blocks;

    /// <summary>P: parameters in all.</summary>
    public long Length => blocks.Sum(b => b.Length);

    public ParameterBlock this[string name] => blocks.FirstOrDefault(b => b.Name == name)
        ?? throw new ArgumentException($"θ has no block '{name}' (it has {string.Join(", ", blocks.Select(b => b.Name))})", nameof(name));

    /// <summary>A copy of block <paramref name="name"/> of <paramref name="theta"/>.</summary>
    public T[] Slice<T>(T[] theta, string name)
    {
        ParameterBlock block = this[name];
        return theta.AsSpan(checked((int)block.Offset), checked((int)block.Length)).ToArray();
    }
}
