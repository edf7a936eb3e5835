using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// A kernel is one <see cref="Kernel{TLaunch}"/> declaration: it loads the method its launcher type describes, counts
/// every launch through it (and nothing else), picks the variant of the set that loads it, and refuses a launcher whose
/// parameters are not the method's.
/// </summary>
public sealed class KernelDeclarationTests
{
    static Accelerator Cpu => TestDevices.Get(TestDevices.Cpu).Accelerator;

    [Fact]
    public void EveryLaunchIsCountedAndTheKernelListed()
    {
        var load = new KernelLoader(Cpu, gpu: false);
        var fill = new Kernel<Action<Index1D, Partition, ulong, ArrayView<float>>>(load, CounterRng.FillNormalGpu);
        using var output = Cpu.Allocate1D<float>(8);
        var s = new Partition { Length = 8, Threads = 2, Chunk = 1 };
        fill.Launch(s.Threads, s, 7, output.View);
        fill.Launch(s.Threads, s, 8, output.View);
        Assert.Equal(2, load.Launches);
        var loaded = Assert.Single(load.Loaded);
        Assert.Equal("CounterRng.FillNormalGpu", loaded.Name);
        Assert.False(loaded.ExplicitlyGrouped);
    }

    [Fact]
    public void AnUncountedKernelLeavesTheCountAlone()
    {
        var set = TestDevices.Get(TestDevices.Cpu).Kernels;
        long before = set.Launches;
        set.Empty();
        Assert.Equal(before, set.Launches);
    }

    [Theory]
    [InlineData(true, "CounterRng.FillNormalGpu")]
    [InlineData(false, "CounterRng.FillNormalCpu")]
    public void TheSetsVariantIsLoaded(bool gpu, string expected)
    {
        var load = new KernelLoader(Cpu, gpu);
        _ = new Kernel<Action<Index1D, Partition, ulong, ArrayView<float>>>(load, gpu: CounterRng.FillNormalGpu, cpu: CounterRng.FillNormalCpu);
        Assert.Equal(expected, Assert.Single(load.Loaded).Name);
    }

    [Fact]
    public void AGroupedKernelTakesAKernelConfig()
    {
        var load = new KernelLoader(Cpu, gpu: true);
        _ = new Kernel<Action<KernelConfig, ImageSumsProblem, ArrayView<float>, ArrayView<float>>>(load, ImageSums.SumsGpu);
        Assert.True(Assert.Single(load.Loaded).ExplicitlyGrouped);
    }

    [Fact]
    public void ALauncherWhoseParametersAreNotTheMethodsIsRefused()
    {
        var load = new KernelLoader(Cpu, gpu: false);
        var e = Assert.Throws<InternalFaultException>(() => new Kernel<Action<Index1D, Partition, ulong, ArrayView<double>>>(load, CounterRng.FillNormalGpu));
        Assert.Contains("CounterRng.FillNormalGpu", e.Message);
        Assert.Throws<InternalFaultException>(() => new Kernel<Action<int, Partition, ulong, ArrayView<float>>>(load, CounterRng.FillNormalGpu));
        Assert.Empty(load.Loaded);
    }
}
