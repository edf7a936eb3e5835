using System.Collections.Concurrent;
using IlgpuVae.Compute;

// ILGPU's CPU accelerator runs each launch on its own worker threads; tests share one device per kind,
// so they run one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace IlgpuVae.Tests.Infrastructure;

/// <summary>
/// The accelerators this test run can create: the CPU accelerator always, CUDA and OpenCL where ILGPU finds
/// a usable device. Each is opened once and shared by every test.
/// </summary>
public static class TestDevices
{
    static readonly ConcurrentDictionary<string, ComputeDevice> Open = new();
    static readonly Lazy<string[]> Available = new(() =>
        new[] { "cpu" }.Concat(ComputeDevice.Survey()
            .Where(r => r.Usable && r.Kind != DeviceKind.Cpu && r.Index == 0)
            .Select(r => r.Kind == DeviceKind.Cuda ? "cuda" : "opencl")).ToArray());

    /// <summary>"cpu", plus "cuda" / "opencl" when present.</summary>
    public static IReadOnlyList<string> Names => Available.Value;

    /// <summary>Theory data: one row per available accelerator.</summary>
    public static TheoryData<string> All
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var name in Names) data.Add(name);
            return data;
        }
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

    /// <summary>
    /// <see cref="Names"/> plus "cpu-portable": the CPU accelerator running the portable dense kernels that
    /// GPUs run, so the kernel tests check those here too.
    /// </summary>
    public static IReadOnlyList<string> NamesWithPortableCpu => [.. Names, PortableCpu];

    const string PortableCpu = "cpu-portable";

    public static ComputeDevice Get(string name) => Open.GetOrAdd(name, n =>
        n == PortableCpu ? ComputeDevice.Open("cpu", KernelChoice.Portable) : ComputeDevice.Open(n));
}
