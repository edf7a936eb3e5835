using System.Collections.Concurrent;
using ILGPU.Runtime.CPU;
using IlgpuVae.Compute;

// ILGPU's CPU accelerator runs each launch on its own worker threads; tests share one device per kind,
// so they run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace IlgpuVae.Tests.Infrastructure;

/// <summary>
/// The accelerators a test runs on. "cpu" (the CPU accelerator) always; "opencl" (the first OpenCL device ILGPU
/// accepts) in every run, its cases skipped, saying why, where there is none (<see cref="DeviceTheoryAttribute"/>);
/// "cuda" where a CUDA device is usable. Each is opened once and shared by every test.
/// Beside them, the GPU kernels (<see cref="GpuKernels"/>) in other launch shapes: on the CPU accelerator,
/// "cpu-portable" (what <c>--kernels portable</c> opens: warps of 32, groups of 256, a GPU's shapes) and
/// "cpu-portable-small" (groups of at most 16 threads with 8×8 and 16×16 product tiles and MMD blocks of 4, so small
/// test shapes cross many tile edges at a bearable cost, on two simulated multiprocessors so that two groups run at
/// once); and on the real OpenCL device, the shapes the launch rules give other devices — an H100/H200
/// (132 multiprocessors: mostly narrow product tiles), a small GPU of 20 multiprocessors, and the small test shape.
/// </summary>
internal static class TestDevices
{
    static readonly ConcurrentDictionary<string, ComputeDevice> Open = new();
    static readonly Lazy<IReadOnlyList<DeviceReport>> Survey = new(ComputeDevice.Survey);

    public const string Cpu = "cpu", OpenCl = "opencl", Cuda = "cuda";
    public const string PortableCpu = "cpu-portable", SmallPortableCpu = "cpu-portable-small";
    public const string OpenClAsH200 = "opencl-as-h200", OpenClAsSmallGpu = "opencl-as-20sm", SmallOpenCl = "opencl-small";

    /// <summary>The small GPU launch shape: 4×4-thread product groups (16×16 tiles), 2×2 when fewer than 6 tiles.</summary>
    public static readonly GpuLaunchShape SmallShape = new(GemmSide: 4, NarrowGemmSide: 2, ReductionGroup: 16, MmdGroup: 16,
        MmdBlock: 4, Multiprocessors: 6, SharedBytes: GpuLaunchShape.SharedLimit);

    /// <summary>What the launch rules give an H100/H200: groups of 1,024, 132 multiprocessors, 48 KB of shared memory.</summary>
    public static readonly GpuLaunchShape H200Shape = GpuLaunchShape.For(1024, 132, 48 * 1024);

    /// <summary>What they give a small GPU: groups of 1,024, 20 multiprocessors, 48 KB.</summary>
    public static readonly GpuLaunchShape SmallGpuShape = GpuLaunchShape.For(1024, 20, 48 * 1024);

    /// <summary>"cpu" and "opencl", plus "cuda" when present.</summary>
    public static IReadOnlyList<string> Names => [Cpu, OpenCl, .. Usable(DeviceKind.Cuda) ? [Cuda] : Array.Empty<string>()];

    /// <summary><see cref="Names"/> plus the GPU kernels in the other launch shapes, on the CPU accelerator and on OpenCL.</summary>
    public static IReadOnlyList<string> NamesWithGpuShapes => [.. Names, PortableCpu, SmallPortableCpu, OpenClAsH200, OpenClAsSmallGpu, SmallOpenCl];

    /// <summary>Theory data: one row per accelerator.</summary>
    public static TheoryData<string> All => Rows(Names);

    /// <summary>Theory data: one row per accelerator and per launch shape of the GPU kernels.</summary>
    public static TheoryData<string> AllWithGpuShapes => Rows(NamesWithGpuShapes);

    static TheoryData<string> Rows(IEnumerable<string> names)
    {
        var data = new TheoryData<string>();
        foreach (var name in names) data.Add(name);
        return data;
    }

    /// <summary>Theory data: every case on every accelerator.</summary>
    public static TheoryData<T, string> Cross<T>(IEnumerable<T> cases)
    {
        var data = new TheoryData<T, string>();
        foreach (var device in Names)
            foreach (var c in cases)
                data.Add(c, device);
        return data;
    }

    /// <summary>Whether <paramref name="name"/> runs on the OpenCL device.</summary>
    public static bool IsOpenCl(string name) => name == OpenCl || name.StartsWith(OpenCl + "-", StringComparison.Ordinal);

    /// <summary>Whether the test run has a usable device of <paramref name="kind"/>.</summary>
    public static bool Usable(DeviceKind kind) => Survey.Value.Any(r => r.Kind == kind && r.Usable);

    /// <summary>
    /// Why the cases on the OpenCL device cannot run here, or null when they can: no OpenCL device, or one that ILGPU
    /// refuses (it names the reason), with what to do.
    /// </summary>
    public static string? OpenClSkipReason { get; } = FindOpenClSkipReason();

    static string? FindOpenClSkipReason()
    {
        if (Usable(DeviceKind.OpenCL)) return null;
        var refused = Survey.Value.FirstOrDefault(r => r.Kind == DeviceKind.OpenCL);
        string why = refused is null ? "no OpenCL device was found" : $"ILGPU refuses {refused.Spec} ({refused.Name}: {refused.Refusal})";
        return $"No usable OpenCL device: {why}. Install an OpenCL runtime with the generic address space (PoCL 4 or newer, " +
               "e.g. pocl-opencl-icd and ocl-icd-opencl-dev on Debian 13), or run these cases with scripts/opencl-tests.sh.";
    }

    public static ComputeDevice Get(string name) => Open.GetOrAdd(name, n => n switch
    {
        PortableCpu => ComputeDevice.Open(Cpu, KernelChoice.Portable),
        SmallPortableCpu => ComputeDevice.OpenCpu(new CPUDevice(16, 1, 2), KernelChoice.Portable, SmallShape),
        OpenClAsH200 => ComputeDevice.Open(OpenCl, KernelChoice.Fastest, H200Shape),
        OpenClAsSmallGpu => ComputeDevice.Open(OpenCl, KernelChoice.Fastest, SmallGpuShape),
        SmallOpenCl => ComputeDevice.Open(OpenCl, KernelChoice.Fastest, SmallShape),
        _ => ComputeDevice.Open(n),
    });
}
