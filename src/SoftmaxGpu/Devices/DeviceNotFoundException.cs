namespace SoftmaxGpu.Devices;

/// <summary>Thrown when an explicitly requested device is not on this machine.</summary>
public sealed class DeviceNotFoundException(string message) : Exception(message);
