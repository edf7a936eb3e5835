using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace IlgpuVae.Compute;

/// <summary>The accelerator families a user can ask for.</summary>
public enum DeviceKind { Cpu, Cuda, OpenCL }

/// <summary>
/// Which dense-product kernels a device runs: the fastest it has (on the CPU accelerator, <c>SimdGemm</c>'s
/// vector code), or the portable register-tiled ones every accelerator runs (for comparison and tests).
/// </summary>
public enum KernelChoice { Fastest, Portable }

/// <summary>
/// One ILGPU accelerator with its context and the kernels loaded on it (compiled once, on first use of
/// the device). Choose with <see cref="Open"/>: "auto" takes CUDA, then OpenCL, then the CPU accelerator.
/// </summary>
public sealed class ComputeDevice : IDisposable
{
    readonly Context context;
    KernelSet? kernels;

    public Accelerator Accelerator { get; }
    public DeviceKind Kind { get; }
    public KernelChoice KernelChoice { get; private set; }
    public string Name => Accelerator.Name;

    /// <summary>Whether the dense products run on the CPU's vector units (<c>SimdGemm</c>).</summary>
    public bool UsesVectorProducts => Kind == DeviceKind.Cpu && KernelChoice == KernelChoice.Fastest;

    /// <summary>Kernels, loaded (and on a GPU, JIT-compiled) when first asked for.</summary>
    public KernelSet Kernels => kernels ??= new KernelSet(this);

    ComputeDevice(Context context, Accelerator accelerator, DeviceKind kind)
    {
        this.context = context;
        Accelerator = accelerator;
        Kind = kind;
    }

    /// <summary>
    /// Opens the accelerator named by <paramref name="spec"/>: auto, cpu, cuda, opencl, or cuda:N / opencl:N
    /// for the N-th device of that kind. Throws <see cref="DeviceUnavailableException"/> saying why not.
    /// </summary>
    public static ComputeDevice Open(string spec = "auto", KernelChoice kernels = KernelChoice.Fastest)
    {
        var device = OpenSpec(spec);
        device.KernelChoice = kernels;
        return device;
    }

    static ComputeDevice OpenSpec(string spec)
    {
        var (kindName, index) = ParseSpec(spec);
        var context = CreateContext();
        try
        {
            return kindName switch
            {
                "auto" => OpenAuto(context),
                "cpu" => new ComputeDevice(context, context.GetCPUDevice(0).CreateAccelerator(context), DeviceKind.Cpu),
                "cuda" => OpenIndexed(context, DeviceKind.Cuda, index),
                _ => OpenIndexed(context, DeviceKind.OpenCL, index),
            };
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The threads to launch for <paramref name="work"/> independent items of a grid-stride kernel. The CPU
    /// accelerator pays about a microsecond per simulated thread, so it gets a few per hardware thread;
    /// a GPU gets enough to fill every multiprocessor.
    /// </summary>
    public int LaunchThreads(long work)
    {
        long cap = 4L * Accelerator.MaxNumThreads;
        return (int)Math.Max(1, Math.Min(work, cap));
    }

    /// <summary>
    /// How a grid-stride launch deals out <paramref name="length"/> items (<see cref="Kernels.Shares"/>): on a
    /// GPU, <see cref="LaunchThreads"/> threads taking one item in turn; on the CPU accelerator, one run of
    /// whole cache lines per hardware thread — interleaved items had both cores writing into the same lines,
    /// which made the optimizer step 1.7× slower — and fewer threads when there are few items.
    /// </summary>
    public Kernels.Shares Shares(int length)
    {
        if (Kind != DeviceKind.Cpu)
            return new Kernels.Shares { Length = length, Threads = LaunchThreads(length), Chunk = 1 };
        const int cacheLine = 16, fewestPerThread = 1024;
        int threads = Math.Clamp((length + fewestPerThread - 1) / fewestPerThread, 1, Accelerator.MaxNumThreads);
        int chunk = ((length + threads - 1) / threads + cacheLine - 1) / cacheLine * cacheLine;
        return new Kernels.Shares { Length = length, Threads = threads, Chunk = Math.Max(chunk, cacheLine) };
    }

    /// <summary>Every accelerator ILGPU sees, which one "auto" would pick, and why any was refused.</summary>
    public static IReadOnlyList<DeviceReport> Survey()
    {
        using var context = CreateContext();
        var reports = new List<DeviceReport>();
        foreach (var kind in new[] { DeviceKind.Cuda, DeviceKind.OpenCL, DeviceKind.Cpu })
        {
            var devices = DevicesOf(context, kind);
            for (int i = 0; i < devices.Count; i++)
            {
                string? refusal = null;
                try
                {
                    using var accelerator = devices[i].CreateAccelerator(context);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    refusal = e.Message;
                }
                reports.Add(new DeviceReport(kind, i, devices[i].Name, devices[i].MemorySize, refusal));
            }
        }
        var pick = reports.FirstOrDefault(r => r.Usable);
        return reports.Select(r => r with { IsAutoChoice = ReferenceEquals(r, pick) }).ToList();
    }

    static Context CreateContext() => Context.Create(builder => builder
        // Few simulated threads per group: each is an OS thread, and launches cost less with fewer of them.
        .CPU(new CPUDevice(2, 1, Math.Max(1, Environment.ProcessorCount / 2)))
        .Cuda()
        // Ask for every OpenCL device, so an unsuitable one is refused with ILGPU's reason, not hidden.
        .OpenCL(_ => true)
        .EnableAlgorithms());

    static List<Device> DevicesOf(Context context, DeviceKind kind)
    {
        var list = new List<Device>();
        switch (kind)
        {
            case DeviceKind.Cuda: foreach (var d in context.GetCudaDevices()) list.Add(d); break;
            case DeviceKind.OpenCL: foreach (var d in context.GetCLDevices()) list.Add(d); break;
            default: foreach (var d in context.GetCPUDevices()) list.Add(d); break;
        }
        return list;
    }

    static ComputeDevice OpenAuto(Context context)
    {
        foreach (var kind in new[] { DeviceKind.Cuda, DeviceKind.OpenCL })
        {
            foreach (var device in DevicesOf(context, kind))
            {
                try
                {
                    return new ComputeDevice(context, device.CreateAccelerator(context), kind);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // Refused (e.g. an OpenCL device without the generic address space): try the next.
                }
            }
        }
        return new ComputeDevice(context, context.GetCPUDevice(0).CreateAccelerator(context), DeviceKind.Cpu);
    }

    static ComputeDevice OpenIndexed(Context context, DeviceKind kind, int index)
    {
        var devices = DevicesOf(context, kind);
        string name = kind == DeviceKind.Cuda ? "cuda" : "opencl";
        if (devices.Count == 0)
            throw new DeviceUnavailableException(
                $"No {(kind == DeviceKind.Cuda ? "CUDA" : "OpenCL")} device was found. " +
                $"Run the 'devices' command to see what is available, or use --device cpu.");
        if (index >= devices.Count)
            throw new DeviceUnavailableException(
                $"Device '{name}:{index}' does not exist: there are {devices.Count} {name} device(s), numbered from 0. Use one of those, or --device cpu.");
        try
        {
            return new ComputeDevice(context, devices[index].CreateAccelerator(context), kind);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not DeviceUnavailableException)
        {
            throw new DeviceUnavailableException(
                $"ILGPU refused {name}:{index} ({devices[index].Name}): {e.Message} Use --device cpu or another device.", e);
        }
    }

    static (string Kind, int Index) ParseSpec(string spec)
    {
        string s = (spec ?? "auto").Trim().ToLowerInvariant();
        string kind = s, indexText = "0";
        int colon = s.IndexOf(':');
        if (colon >= 0) (kind, indexText) = (s[..colon], s[(colon + 1)..]);
        bool knownKind = kind is "auto" or "cpu" or "cuda" or "opencl";
        bool indexed = colon < 0 || kind is "cuda" or "opencl";
        if (!knownKind || !indexed || !int.TryParse(indexText, out int index) || index < 0)
            throw new DeviceUnavailableException(
                $"Unknown device '{spec}'. Use auto, cpu, cuda, opencl, or cuda:N / opencl:N for the N-th device.");
        return (kind, index);
    }

    public void Synchronize() => Accelerator.Synchronize();

    public void Dispose()
    {
        kernels = null;
        Accelerator.Dispose();
        context.Dispose();
    }
}

/// <summary>One accelerator as the survey saw it; <see cref="Refusal"/> is ILGPU's reason when it can't be used.</summary>
public sealed record DeviceReport(DeviceKind Kind, int Index, string Name, long MemoryBytes, string? Refusal,
    bool IsAutoChoice = false)
{
    public bool Usable => Refusal is null;
    public string Spec => Kind == DeviceKind.Cpu ? "cpu" : $"{(Kind == DeviceKind.Cuda ? "cuda" : "opencl")}:{Index}";
}

/// <summary>The requested accelerator is unknown, absent or refused; the message says which and what to do.</summary>
public sealed class DeviceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
