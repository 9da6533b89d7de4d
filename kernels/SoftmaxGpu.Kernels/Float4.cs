namespace SoftmaxGpu.Kernels;

/// <summary>Four floats moved as one 16-byte access (ld.global.v4.f32 on CUDA when the view is aligned).</summary>
public struct Float4
{
    public float X;
    public float Y;
    public float Z;
    public float W;
}
