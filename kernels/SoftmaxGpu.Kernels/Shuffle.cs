using ILGPU;
using ILGPU.Runtime;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// An epoch's shuffle made on the device: order[i] = π(i) for a keyed pseudo-random permutation π of [0, N),
/// so no permutation is built on the host or copied per epoch. π is a four-round Feistel network on the
/// smallest 2^(2h) ≥ N (a bijection of h-bit halves for any round function), cycle-walked back into [0, N):
/// following the network from i until the value falls below N visits only values ≥ N on the way, so distinct
/// i reach distinct results. The walk takes under four rounds on average (the domain is below 4N).
/// </summary>
public sealed class Shuffle
{
    private readonly Action<KernelConfig, int, uint, ArrayView<int>> kernel;
    private readonly LaunchShape shape;

    public Shuffle(Accelerator accelerator, LaunchShape shape)
    {
        this.shape = shape;
        kernel = accelerator.LoadStreamKernel<int, uint, ArrayView<int>>(ShuffleKernel);
    }

    /// <summary>order[i] = π_key(i), grid-stride over i.</summary>
    /// <param name="n">N: the permutation is of [0, N).</param>
    /// <param name="key">Selects the permutation (seed and epoch).</param>
    /// <param name="order">[N], overwritten.</param>
    public static void ShuffleKernel(int n, uint key, ArrayView<int> order)
    {
        int half = HalfBits(n);
        int stride = Grid.DimX * Group.DimX;
        for (int i = Grid.GlobalIndex.X; i < n; i += stride)
            order[i] = Permute(i, n, half, key);
    }

    /// <summary>π(i): the Feistel network applied until the result lies in [0, N).</summary>
    public static int Permute(int i, int n, int halfBits, uint key)
    {
        uint mask = (1u << halfBits) - 1u;
        uint value = (uint)i;
        do
        {
            uint left = value >> halfBits;
            uint right = value & mask;
            for (uint round = 0; round < 4; round++)
            {
                uint next = left ^ (Mix(right, key + round * 0x9E3779B9u) & mask);
                left = right;
                right = next;
            }
            value = (left << halfBits) | right;
        }
        while (value >= (uint)n);
        return (int)value;
    }

    /// <summary>h: half the bits of the smallest even-bit power of two ≥ N.</summary>
    public static int HalfBits(int n)
    {
        int half = 1;
        while ((1L << (2 * half)) < n)
            half++;
        return half;
    }

    /// <summary>A 32-bit integer hash (the murmur3 finalizer) of value and key: the Feistel round function.</summary>
    private static uint Mix(uint value, uint key)
    {
        uint h = value ^ key;
        h ^= h >> 16;
        h *= 0x85EBCA6Bu;
        h ^= h >> 13;
        h *= 0xC2B2AE35u;
        h ^= h >> 16;
        return h;
    }

    /// <summary>The key of an epoch's permutation for a training seed.</summary>
    public static uint Key(int seed, int epoch) => (uint)seed * 0x27D4EB2Du ^ (uint)epoch * 0x165667B1u;

    /// <summary>The key of one block's shuffle in an epoch of streamed blocks (block 0 shares the epoch's key).</summary>
    public static uint Key(int seed, int epoch, int block) => Key(seed, epoch) ^ (uint)block * 0x9E3779B1u;

    public void Launch(int n, uint key, ArrayView<int> order) =>
        kernel(shape.GridStride(n, shape.ElementGroup), n, key, order);
}
