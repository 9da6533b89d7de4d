using System.Reflection;
using ILGPU;
using ILGPU.Runtime;
using SoftmaxGpu.Devices;
using Xunit.Sdk;
using Xunit.v3;

[assembly: TestFramework(typeof(SoftmaxGpu.Tests.DeviceTestFramework))]

namespace SoftmaxGpu.Tests;

/// <summary>
/// xUnit's own framework with one change: the test classes bound to a device that this machine lacks (the CUDA
/// and OpenCL subclasses, <see cref="CudaFixture"/>, <see cref="OpenCLFixture"/>) are not discovered at all, so
/// `dotnet test` on a machine without a GPU does not list some two hundred skipped tests, two lines each.
/// <see cref="AbsentDeviceTests"/> says once per absent device which classes were left out and why. A device that
/// CI requires (<c>SOFTMAXGPU_REQUIRE_OPENCL=1</c>) is never left out: its absence fails its tests there.
/// </summary>
public sealed class DeviceTestFramework : XunitTestFramework
{
    // xUnit makes its framework through a parameterless constructor, or the one that takes a config file.
    public DeviceTestFramework() { }

    public DeviceTestFramework(string? configFileName) : base(configFileName) { }

    /// <summary>xUnit's discoverer for the assembly as xUnit makes it, less the classes of absent devices.</summary>
    protected override ITestFrameworkDiscoverer CreateDiscoverer(Assembly assembly) =>
        new Discoverer(((XunitTestFrameworkDiscoverer)base.CreateDiscoverer(assembly)).TestAssembly);

    /// <summary>The device a test class runs on, where it is one that a machine may lack.</summary>
    private static readonly Dictionary<Type, AcceleratorType> DeviceOfFixture = new()
    {
        [typeof(CudaFixture)] = AcceleratorType.Cuda,
        [typeof(OpenCLFixture)] = AcceleratorType.OpenCL,
    };

    /// <summary>The device <paramref name="testClass"/> needs, if it is bound to one a machine may lack.</summary>
    public static AcceleratorType? DeviceOf(Type testClass) =>
        testClass.GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IClassFixture<>))
            .Select(i => i.GetGenericArguments()[0])
            .Where(DeviceOfFixture.ContainsKey)
            .Select(fixture => (AcceleratorType?)DeviceOfFixture[fixture])
            .FirstOrDefault();

    /// <summary>Why <paramref name="type"/>'s tests are left out here, or null when they run.</summary>
    public static string? LeftOut(AcceleratorType type) =>
        type == AcceleratorType.OpenCL && AcceleratorFixture.OpenCLRequired ? null : Missing.Value.GetValueOrDefault(type);

    /// <summary>Whether <paramref name="testClass"/> is discovered and run on this machine.</summary>
    public static bool Runs(Type testClass) => DeviceOf(testClass) is not { } type || LeftOut(type) is null;

    /// <summary>Each absent device with the reason it is absent (one look per test process).</summary>
    private static readonly Lazy<Dictionary<AcceleratorType, string>> Missing = new(() =>
    {
        using Context context = Backends.CreateContext();
        return Backends.Discover(context)
            .Where(info => info.Missing is not null)
            .ToDictionary(info => info.Backend.Type, info => info.Missing!);
    });

    private sealed class Discoverer(IXunitTestAssembly assembly) : XunitTestFrameworkDiscoverer(assembly)
    {
        protected override Type[] GetExportedTypes() => [.. base.GetExportedTypes().Where(Runs)];
    }
}

/// <summary>One line per device whose test classes this machine leaves out (<see cref="DeviceTestFramework"/>).</summary>
public sealed class AbsentDeviceTests
{
    [Theory]
    [InlineData(AcceleratorType.Cuda)]
    [InlineData(AcceleratorType.OpenCL)]
    public void TheDevicesTestClassesRunWhereverTheDeviceIs(AcceleratorType type)
    {
        Type[] classes = [.. typeof(AbsentDeviceTests).Assembly.GetExportedTypes().Where(c => DeviceTestFramework.DeviceOf(c) == type)];
        Assert.NotEmpty(classes);
        if (DeviceTestFramework.LeftOut(type) is { } why)
            Assert.Skip($"{classes.Length} {type} test classes not run: {why}");
        // The device is here (or required): its classes are discovered, so their fixture must find it.
        using AcceleratorFixture fixture = type == AcceleratorType.Cuda ? new CudaFixture() : new OpenCLFixture();
        Assert.Null(fixture.SkipReason);
        Assert.NotNull(fixture.Accelerator);
    }
}
