using ILGPU;

namespace SoftmaxGpu.Kernels;

/// <summary>
/// Tree reductions over one thread group through shared memory. Every thread passes its partial value
/// and every thread gets the group's result. The order of additions is fixed, so results are
/// bit-reproducible (ILGPU.Algorithms' group reduce uses an atomic and is not). The group size must be a
/// power of two; LaunchShape only hands out such sizes.
/// </summary>
public static class GroupReduce
{
    /// <summary>Sum of <paramref name="value"/> over the group. scratch: [Group.DimX] shared floats.</summary>
    public static float Sum(ArrayView<float> scratch, float value)
    {
        int tid = Group.IdxX;
        scratch[tid] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (tid < half)
                scratch[tid] += scratch[tid + half];
            Group.Barrier();
        }
        float total = scratch[0];
        Group.Barrier(); // scratch may be reused right after
        return total;
    }

    /// <summary>Maximum of <paramref name="value"/> over the group. scratch: [Group.DimX] shared floats.</summary>
    public static float Max(ArrayView<float> scratch, float value)
    {
        int tid = Group.IdxX;
        scratch[tid] = value;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (tid < half)
                scratch[tid] = MathF.Max(scratch[tid], scratch[tid + half]);
            Group.Barrier();
        }
        float best = scratch[0];
        Group.Barrier();
        return best;
    }
}
