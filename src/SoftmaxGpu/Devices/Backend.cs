using ILGPU.Runtime;

namespace SoftmaxGpu.Devices;

/// <summary>One row of the backend table: a name the CLI, tests and benchmarks share, and how to find it.</summary>
/// <param name="Host">The managed CPU engine: ILGPU's CPU accelerator holds the buffers and runs the small kernels,
/// and <see cref="Kernels.Host.HostStep"/> computes the gradient and the forward pass.</param>
public sealed record Backend(string Name, AcceleratorType Type, string Description, bool Host = false);
