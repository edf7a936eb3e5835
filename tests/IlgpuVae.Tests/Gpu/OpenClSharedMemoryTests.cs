using Regex = System.Text.RegularExpressions.Regex;
using GeneratedRegex = System.Text.RegularExpressions.GeneratedRegexAttribute;
using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Gpu;

/// <summary>
/// ILGPU 1.5.3's OpenCL backend and shared memory (<see cref="Kernels.SharedScratch"/> says why the GPU kernels
/// allocate theirs statically). Dynamic shared memory reaches an OpenCL kernel through a program-scope variable,
/// <c>local T* shared_var_N;</c> beside the kernel, which every work-group sets to its own local buffer and reads
/// back: work-groups that run at once then share one pointer. These tests keep the minimal reproduction — the
/// emitted source, and on a real OpenCL device, groups that read another group's shared memory — and check that no
/// GPU kernel of ours is written that way, and that a static allocation keeps each group's memory its own.
/// </summary>
public sealed partial class OpenClSharedMemoryTests
{
    const int Threads = 64, Groups = 512, Rounds = 20;

    /// <summary>
    /// The likelihood kernel's pattern: each group strides along its row of <see cref="Row"/> values, writing an output
    /// per value (as the gradient is written), then sums its threads' parts with the project's group reduction in
    /// dynamic shared memory.
    /// </summary>
    static void DynamicShared(ArrayView<float> written, ArrayView<double> sums) => RowSum(SharedMemory.GetDynamic<double>(), written, sums);

    /// <summary>The same with a static allocation.</summary>
    static void StaticShared(ArrayView<float> written, ArrayView<double> sums) => RowSum(SharedMemory.Allocate<double>(Threads), written, sums);

    const int Row = 2048;

    static void RowSum(ArrayView<double> scratch, ArrayView<float> written, ArrayView<double> sums)
    {
        int g = Grid.IdxX;
        double part = 0;
        for (int i = Group.IdxX; i < Row; i += Group.DimX)
        {
            written[g * Row + i] = i;
            part += Value(g, i);
        }
        double sum = IlgpuVae.Kernels.GroupReductions.Sum(part, scratch);
        if (Group.IdxX == 0) sums[g] = sum;
    }

    static double Value(int group, int i) => group * 4096.0 + i;

    /// <summary>Program-scope local pointers in OpenCL C: how the backend shares an allocation with a kernel's callees.</summary>
    [GeneratedRegex(@"(?m)^local [^(;]*\*\s*shared_var_\d+;")]
    private static partial Regex ProgramScopeLocalPointer();

    static string OpenCl(Action<ArrayView<float>, ArrayView<double>> kernel) =>
        GpuCompilation.OpenCl(new LoadedKernel(kernel.Method, ExplicitlyGrouped: true));

    [Fact]
    public void IlgpuHandsDynamicSharedMemoryThroughAProgramScopePointer()
    {
        // The reproduction: if this fails, ILGPU's OpenCL backend has changed and SharedScratch may be revisited.
        Assert.Matches(ProgramScopeLocalPointer(), OpenCl(DynamicShared));
        Assert.DoesNotMatch(ProgramScopeLocalPointer(), OpenCl(StaticShared));
    }

    public static TheoryData<string> KernelNames() => GpuCompilationTests.KernelNames();

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void NoGpuKernelSharesAProgramScopePointer(string kernel)
    {
        var source = GpuCompilation.OpenCl(GpuCompilationTests.Kernel(kernel));
        Assert.DoesNotMatch(ProgramScopeLocalPointer(), source);
        Assert.DoesNotContain("dynamic_shared_memory", source);
    }

    /// <summary>How many groups of <see cref="Rounds"/> launches summed other values than their own.</summary>
    static int CorruptedGroups(ComputeDevice device, Action<ArrayView<float>, ArrayView<double>> kernel, bool dynamic)
    {
        var launch = device.Accelerator.LoadStreamKernel(kernel);
        var config = dynamic ? new KernelConfig(Groups, Threads, SharedMemoryConfig.RequestDynamic<double>(Threads)) : new KernelConfig(Groups, Threads);
        using var written = device.Accelerator.Allocate1D<float>(Groups * Row);
        using var sums = device.Accelerator.Allocate1D<double>(Groups);
        int corrupted = 0;
        for (int round = 0; round < Rounds; round++)
        {
            sums.MemSetToZero();
            launch(config, written.View, sums.View);
            var values = sums.GetAsArray1D();
            for (int g = 0; g < Groups; g++)
                if (values[g] != Enumerable.Range(0, Row).Sum(i => Value(g, i))) corrupted++;
        }
        return corrupted;
    }

    public static TheoryData<string> OpenClDevice() => [TestDevices.OpenCl];

    [DeviceTheory]
    [MemberData(nameof(OpenClDevice))]
    public void StaticSharedMemoryIsEachGroupsOwnOnOpenCl(string device) =>
        Assert.Equal(0, CorruptedGroups(TestDevices.Get(device), StaticShared, dynamic: false));

    /// <summary>
    /// The fault itself, on a device whose groups run at once (PoCL runs one per core): dynamic shared memory is read
    /// from other groups. Where every group's local buffer has one address (a GPU) it would not show, and on a device
    /// of one compute unit it cannot: the test is for PoCL on two or more cores, as in CI.
    /// </summary>
    [DeviceTheory]
    [MemberData(nameof(OpenClDevice))]
    public void DynamicSharedMemoryLeaksBetweenConcurrentGroupsOnOpenCl(string device)
    {
        var d = TestDevices.Get(device);
        Assert.True(d.Accelerator.NumMultiprocessors >= 2, $"{d.Describe()} runs one group at a time; the reproduction needs two at once.");
        Assert.True(CorruptedGroups(d, DynamicShared, dynamic: true) > 0,
            $"Every group of {Rounds}×{Groups} read its own dynamic shared memory on {d.Describe()}: has ILGPU's OpenCL backend changed?");
    }
}
