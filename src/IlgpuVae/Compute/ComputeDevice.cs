using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace IlgpuVae.Compute;

/// <summary>The accelerator families a user can ask for.</summary>
internal enum DeviceKind { Cpu, Cuda, OpenCL }

/// <summary>
/// Which kernels a device runs: the fastest it has (<see cref="CpuKernels"/> on the CPU accelerator,
/// <see cref="GpuKernels"/> on a GPU), or <see cref="Portable"/>: exactly the kernels and launch rules a GPU
/// gets, on any accelerator — on the CPU, one shaped like a GPU — so the GPU path is checked without a GPU.
/// </summary>
internal enum KernelChoice { Fastest, Portable }

/// <summary>The command line's names for <see cref="KernelChoice"/>.</summary>
internal static class KernelChoices
{
    /// <summary>"fastest" or "portable" (any case) → the choice; anything else is refused naming the option.</summary>
    public static KernelChoice Parse(string text, string option = "RunConfig.Kernels") => text.Trim().ToLowerInvariant() switch
    {
        "fastest" => KernelChoice.Fastest,
        "portable" => KernelChoice.Portable,
        _ => throw new ArgumentException($"{option} takes fastest or portable; '{text}' is not one of them."),
    };

    public static string Name(this KernelChoice choice) => choice.ToString().ToLowerInvariant();
}

/// <summary>
/// One ILGPU accelerator with its context and the kernels loaded on it (compiled once — to PTX or OpenCL C and
/// then by the driver on a GPU, to ILGPU's CPU code on the CPU accelerator — on first use of the device).
/// Choose with <see cref="Open(string, KernelChoice)"/>: "auto" takes CUDA, then OpenCL, then the CPU accelerator.
/// </summary>
internal sealed class ComputeDevice : IDisposable
{
    /// <summary>
    /// The CPU accelerator the app opens: two simulated threads per group and one multiprocessor per two
    /// hardware threads — each simulated thread is an OS thread, and launches cost less with fewer of them.
    /// </summary>
    static CPUDevice FastCpu => new(2, 1, Math.Max(1, Environment.ProcessorCount / 2));

    /// <summary>
    /// The CPU accelerator for <see cref="KernelChoice.Portable"/>: warps of 32 and groups of up to 256 threads,
    /// as a GPU has, so <see cref="GpuLaunchShape.For(ILGPU.Runtime.Accelerator)"/> gives it a GPU's shapes. Each barrier costs
    /// milliseconds here (256 OS threads): it is for checking, not for speed.
    /// </summary>
    static CPUDevice GpuShapedCpu => new(32, 8, 1);

    readonly Context context;
    readonly GpuLaunchShape? launchShape;
    KernelSet? kernels;

    public Accelerator Accelerator { get; }
    public DeviceKind Kind { get; }
    public KernelChoice KernelChoice { get; }
    public string Name => Accelerator.Name;
    /// <summary>The device as <c>--device</c> names it: cpu, cuda:N, opencl:N.</summary>
    public string Spec { get; }

    /// <summary>Whether this device runs <see cref="GpuKernels"/>: on a GPU, or anywhere with <see cref="KernelChoice.Portable"/>.</summary>
    public bool RunsGpuKernels => Kind != DeviceKind.Cpu || KernelChoice == KernelChoice.Portable;

    /// <summary>The backend's kernels, loaded and compiled when first asked for.</summary>
    public KernelSet Kernels => kernels ??= RunsGpuKernels ? new GpuKernels(this, launchShape) : new CpuKernels(this);

    ComputeDevice(Context context, Accelerator accelerator, DeviceKind kind, int index, KernelChoice choice, GpuLaunchShape? launchShape = null,
        string? spec = null)
    {
        Spec = spec ?? (kind == DeviceKind.Cpu ? "cpu" : $"{(kind == DeviceKind.Cuda ? "cuda" : "opencl")}:{index}");
        this.context = context;
        this.launchShape = launchShape;
        Accelerator = accelerator;
        Kind = kind;
        KernelChoice = choice;
    }

    /// <summary>
    /// Opens the accelerator named by <paramref name="spec"/>: auto, cpu, cuda, opencl, or cuda:N / opencl:N
    /// for the N-th device of that kind. Throws <see cref="DeviceUnavailableException"/> saying why not.
    /// </summary>
    public static ComputeDevice Open(string spec = "auto", KernelChoice kernels = KernelChoice.Fastest) => Open(spec, kernels, null);

    /// <summary>
    /// <see cref="Open(string, KernelChoice)"/>, with <paramref name="gpuShape"/> instead of the launch sizes a GPU's
    /// properties give (tests run another device's shapes on a real GPU with it); ignored by the CPU accelerator.
    /// </summary>
    internal static ComputeDevice Open(string spec, KernelChoice kernels, GpuLaunchShape? gpuShape)
    {
        var (kindName, index) = ParseSpec(spec);
        var cpu = kernels == KernelChoice.Portable ? GpuShapedCpu : FastCpu;
        if (kindName == "cpu") return OpenCpu(cpu, kernels);
        var context = CreateContext(FastCpu);
        try
        {
            var device = kindName switch
            {
                "auto" => OpenFirstGpu(context, kernels, gpuShape),
                "cuda" => OpenIndexed(context, DeviceKind.Cuda, index, kernels, gpuShape),
                _ => OpenIndexed(context, DeviceKind.OpenCL, index, kernels, gpuShape),
            };
            if (device is not null) return device;
        }
        catch
        {
            context.Dispose();
            throw;
        }
        context.Dispose();
        return OpenCpu(cpu, kernels);
    }

    /// <summary>
    /// A CPU accelerator of the given shape running <paramref name="kernels"/>, with <paramref name="launchShape"/>
    /// instead of the GPU kernels' derived sizes (tests use small shapes to cross many tile edges cheaply).
    /// </summary>
    internal static ComputeDevice OpenCpu(CPUDevice shape, KernelChoice kernels, GpuLaunchShape? launchShape = null)
    {
        var context = CreateContext(shape);
        return new ComputeDevice(context, context.GetCPUDevice(0).CreateAccelerator(context), DeviceKind.Cpu, 0, kernels, launchShape);
    }

    /// <summary>
    /// One CPU accelerator of a data-parallel group of <paramref name="replicas"/>, named <c>cpu:<paramref name="index"/></c>:
    /// the machine's simulated multiprocessors shared among the replicas, each of which runs its launches at the same time.
    /// </summary>
    internal static ComputeDevice OpenCpuReplica(int index, int replicas, KernelChoice kernels)
    {
        var shape = kernels == KernelChoice.Portable ? GpuShapedCpu : new CPUDevice(2, 1, Math.Max(1, Environment.ProcessorCount / 2 / replicas));
        var context = CreateContext(shape);
        return new ComputeDevice(context, context.GetCPUDevice(0).CreateAccelerator(context), DeviceKind.Cpu, 0, kernels, spec: $"cpu:{index}");
    }

    /// <summary>Every accelerator ILGPU sees, which one "auto" would pick, and why any was refused.</summary>
    public static IReadOnlyList<DeviceReport> Survey()
    {
        using var context = CreateContext(FastCpu);
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

    static Context CreateContext(CPUDevice cpu) => Context.Create(builder => builder
        .CPU(cpu)
        .Cuda()
        // Ask for every OpenCL device, so an unsuitable one is refused with ILGPU's reason, not hidden.
        .OpenCL(_ => true)
        // Profiling markers are the events the training loop waits on for a step's loss, a step late.
        .Profiling()
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

    /// <summary>The first CUDA, then OpenCL device ILGPU accepts; null when there is none.</summary>
    static ComputeDevice? OpenFirstGpu(Context context, KernelChoice choice, GpuLaunchShape? shape)
    {
        foreach (var kind in new[] { DeviceKind.Cuda, DeviceKind.OpenCL })
        {
            var devices = DevicesOf(context, kind);
            for (int i = 0; i < devices.Count; i++)
            {
                try
                {
                    return new ComputeDevice(context, devices[i].CreateAccelerator(context), kind, i, choice, shape);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // Refused (e.g. an OpenCL device without the generic address space): try the next.
                }
            }
        }
        return null;
    }

    static ComputeDevice OpenIndexed(Context context, DeviceKind kind, int index, KernelChoice choice, GpuLaunchShape? shape)
    {
        var devices = DevicesOf(context, kind);
        string name = kind == DeviceKind.Cuda ? "cuda" : "opencl";
        if (devices.Count == 0)
            throw new DeviceUnavailableException(
                $"No {(kind == DeviceKind.Cuda ? "CUDA" : "OpenCL")} device was found, so '{name}:{index}' cannot be used. " +
                (kind == DeviceKind.OpenCL ? OpenClLoader.WhyNoDevice() + " " : "") +
                "Run the 'devices' command to see what is available, or use RunConfig.Device = cpu.");
        if (index >= devices.Count)
            throw new DeviceUnavailableException(
                $"Device '{name}:{index}' does not exist: there are {devices.Count} {name} device(s), numbered from 0. Use one of those, or RunConfig.Device = cpu.");
        try
        {
            return new ComputeDevice(context, devices[index].CreateAccelerator(context), kind, index, choice, shape);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not DeviceUnavailableException)
        {
            throw new DeviceUnavailableException(
                $"Device '{name}:{index}' ({devices[index].Name}) cannot be used: ILGPU refused it ({e.Message.TrimEnd('.')}). " +
                "Use RunConfig.Device = cpu, or another device from the 'devices' command.", e);
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

    /// <summary>"cuda:0 (NVIDIA H200)", "cpu (CPUAccelerator)": the device in messages.</summary>
    public string Describe() => $"{Spec} ({Name})";

    public void Synchronize() => Accelerator.Synchronize();

    public void Dispose()
    {
        kernels = null;
        Accelerator.Dispose();
        context.Dispose();
    }
}

/// <summary>One accelerator as the survey saw it; <see cref="Refusal"/> is ILGPU's reason when it can't be used.</summary>
internal sealed record DeviceReport(DeviceKind Kind, int Index, string Name, long MemoryBytes, string? Refusal,
    bool IsAutoChoice = false)
{
    public bool Usable => Refusal is null;
    public string Spec => Kind == DeviceKind.Cpu ? "cpu" : $"{(Kind == DeviceKind.Cuda ? "cuda" : "opencl")}:{Index}";
}

/// <summary>The requested accelerator is unknown, absent or refused; the message says which and what to do.</summary>
public sealed class DeviceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The device failed under a valid request: out of memory, gone, or a launch that did not run. The message names
/// the device, what was asked for, and what to do (a smaller batch, another device).
/// </summary>
public sealed class DeviceFaultException(string message, Exception? inner = null) : Exception(message, inner);
