using System.Globalization;

namespace SoftmaxGpu.Bench;

/// <summary>A benchmark problem: N rows, D features, K classes, written NxDxK.</summary>
public sealed record BenchShape(int N, int D, int K)
{
    public static BenchShape Parse(string text)
    {
        string[] parts = text.Split('x', 'X', '×');
        if (parts.Length != 3 || !parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0))
            throw new ArgumentException($"a shape is NxDxK with three positive integers, e.g. 60000x784x10; got '{text}'");
        int[] v = parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        if (v[2] < 2)
            throw new ArgumentException($"a shape needs K >= 2 classes; got '{text}'");
        if ((long)v[0] * v[1] > int.MaxValue)
            throw new ArgumentException($"N·D must stay below 2^31 elements (ILGPU views); got '{text}'");
        return new BenchShape(v[0], v[1], v[2]);
    }

    public override string ToString() => $"{N}x{D}x{K}";

    /// <summary>Bytes a gradient step must read at least: X once, float32.</summary>
    public double Bytes => 4.0 * N * D;

    /// <summary>FLOPs of a gradient step: 2NDK for Z = X·Wᵀ and 2NDK for dW = Gᵀ·X.</summary>
    public double Flops => 4.0 * N * D * K;
}
