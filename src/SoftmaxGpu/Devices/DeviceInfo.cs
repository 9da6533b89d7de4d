using ILGPU.Runtime;

namespace SoftmaxGpu.Devices;

/// <summary>A device found on this machine, or the reason a backend has none.</summary>
public sealed record DeviceInfo(Backend Backend, Device? Device, string? Missing)
{
    public bool Present => Device is not null;
}
