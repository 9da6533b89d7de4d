using ILGPU.Runtime;

namespace SoftmaxGpu.Devices;

/// <summary>One row of the backend table: a name the CLI, tests and benchmarks share, and how to find it.</summary>
public sealed record Backend(string Name, AcceleratorType Type, string Description);
