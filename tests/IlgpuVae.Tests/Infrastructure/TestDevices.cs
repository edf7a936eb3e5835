using System.Collections.Concurrent;
using ILGPU.Runtime.CPU;
using IlgpuVae.Compute;

// ILGPU's CPU accelerator runs each launch on its own worker threads; tests share one device per kind,
// so they run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace IlgpuVae.Tests.Infrastructure;

/// <summary>
/// The accelerators this test run can create: the CPU accelerator always, CUDA and OpenCL where ILGPU finds
/// a usable device. Each is opened once and shared by every test. Beside them, two CPU accelerators run the
/// GPU kernels (<see cref="GpuKernels"/>): "cpu-portable", what <c>--kernels portable</c> opens (warps of 32,
/// groups of 256, a GPU's launch shapes), and "cpu-portable-small", groups of at most 16 threads with 8×8 and
/// 16×16 product tiles and MMD blocks of 4, so small test shapes cross many tile edges at a bearable cost (each
/// barrier there is a few hundred microseconds; with 256 threads, milliseconds).
/// </summary>
internal static class TestDevices
{
    static readonly ConcurrentDictionary<string, ComputeDevice> Open = new();
    static readonly Lazy<string[]> Available = new(() =>
        new[] { "cpu" }.Concat(ComputeDevice.Survey()
            .Where(r => r.Usable && r.Kind != DeviceKind.Cpu && r.Index == 0)
            .Select(r => r.Kind == DeviceKind.Cuda ? "cuda" : "opencl")).ToArray());

    public const string PortableCpu = "cpu-portable", SmallPortableCpu = "cpu-portable-small";

    /// <summary>The small GPU launch shape: 4×4-thread product groups (16×16 tiles), 2×2 when fewer than 6 tiles.</summary>
    public static readonly GpuLaunchShape SmallShape = new(GemmSide: 4, NarrowGemmSide: 2, ReductionGroup: 16, MmdGroup: 16,
        MmdBlock: 4, Multiprocessors: 6, SharedBytes: GpuLaunchShape.SharedLimit);

    /// <summary>"cpu", plus "cuda" / "opencl" when present.</summary>
    public static IReadOnlyList<string> Names => Available.Value;

    /// <summary><see cref="Names"/> plus the two CPU accelerators that run the GPU kernels.</summary>
    public static IReadOnlyList<string> NamesWithGpuKernelsOnCpu => [.. Names, PortableCpu, SmallPortableCpu];

    /// <summary>Theory data: one row per available accelerator.</summary>
    public static TheoryData<string> All => Rows(Names);

    /// <summary>Theory data: one row per available accelerator and per CPU accelerator running the GPU kernels.</summary>
    public static TheoryData<string> AllWithGpuKernelsOnCpu => Rows(NamesWithGpuKernelsOnCpu);

    static TheoryData<string> Rows(IEnumerable<string> names)
    {
        var data = new TheoryData<string>();
        foreach (var name in names) data.Add(name);
        return data;
    }

    /// <summary>Theory data: every case on every available accelerator.</summary>
    public static TheoryData<T, string> Cross<T>(IEnumerable<T> cases)
    {
        var data = new TheoryData<T, string>();
        foreach (var device in Names)
            foreach (var c in cases)
                data.Add(c, device);
        return data;
    }

    public static ComputeDevice Get(string name) => Open.GetOrAdd(name, n => n switch
    {
        PortableCpu => ComputeDevice.Open("cpu", KernelChoice.Portable),
        SmallPortableCpu => ComputeDevice.OpenCpu(new CPUDevice(16, 1, 1), KernelChoice.Portable, SmallShape),
        _ => ComputeDevice.Open(n),
    });
}
