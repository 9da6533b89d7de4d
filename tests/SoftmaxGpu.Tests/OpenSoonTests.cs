using SoftmaxGpu.Devices;

namespace SoftmaxGpu.Tests;

/// <summary>
/// <see cref="Gpu.OpenSoon"/>: the host engine's context built on another thread while the data is read is the one
/// <see cref="Gpu.Open"/> takes; a device that asks for something else, or a name that is not a device, opens (or
/// fails) exactly as without it.
/// </summary>
public sealed class OpenSoonTests
{
    [Fact]
    public void TheHostEngineOpensFromTheContextBuiltSoon()
    {
        Gpu.OpenSoon("host");
        using (Gpu gpu = Gpu.Open("host"))
            Assert.True(gpu.Host);
        using Gpu again = Gpu.Open("host"); // nothing left over: a context of its own
        Assert.True(again.Host);
    }

    [Fact]
    public void AnotherDeviceOpensAsWithout()
    {
        Gpu.OpenSoon("host");
        using Gpu gpu = Gpu.Open("cpu");
        Assert.False(gpu.Host);
        Assert.Equal(Backends.Cpu, gpu.Backend);
    }

    [Fact]
    public void ANameThatIsNoDeviceFailsInOpenWithItsMessage()
    {
        Gpu.OpenSoon("nonsense");
        var error = Assert.Throws<ArgumentException>(() => Gpu.Open("nonsense"));
        Assert.Contains("unknown device 'nonsense'", error.Message);
        Gpu.OpenSoon("nonsense");
        using Gpu gpu = Gpu.Open("host");
        Assert.True(gpu.Host);
    }
}
