namespace IlgpuVae.Compute;

/// <summary>
/// The devices of <c>--replicas</c>: a comma-separated list of devices of one kind — cuda:0,cuda:1 or opencl:0,opencl:1,
/// or cuda:all / opencl:all for every usable one — or cpu:0,cpu:1, which opens that many CPU accelerators (to check
/// data-parallel training without GPUs). <see cref="Parse"/> checks the text alone; <see cref="Open"/> opens them.
/// </summary>
internal static class ReplicaDevices
{
    const string Usage = "Use a comma-separated list of devices of one kind, e.g. cuda:0,cuda:1, cuda:all or cpu:0,cpu:1";

    /// <summary>The kind named and its indexes, in the order given; null indexes for kind:all.</summary>
    public static (DeviceKind Kind, int[]? Indexes) Parse(string text)
    {
        var items = (text ?? "").Split(',', StringSplitOptions.TrimEntries);
        if (items.Length == 0 || items.Any(i => i.Length == 0))
            throw new ArgumentException($"RunConfig.Replicas '{text}' names no device, or an empty one. {Usage}.");
        var named = items.Select(Item).ToList();
        var kinds = named.Select(n => n.Kind).Distinct().ToList();
        if (kinds.Count > 1)
            throw new ArgumentException($"RunConfig.Replicas '{text}' mixes {string.Join(" and ", kinds.Select(Name))} devices; every replica must run the same kernels. {Usage}.");
        if (named.Any(n => n.Index is null))
        {
            if (named.Count > 1) throw new ArgumentException($"RunConfig.Replicas '{text}': {Name(kinds[0])}:all stands alone. {Usage}.");
            return (kinds[0], null);
        }
        var indexes = named.Select(n => n.Index!.Value).ToArray();
        if (indexes.Distinct().Count() < indexes.Length)
            throw new ArgumentException($"RunConfig.Replicas '{text}' names {Name(kinds[0])}:{indexes.GroupBy(i => i).First(g => g.Count() > 1).Key} twice; each replica needs its own device.");
        if (indexes.Length < 2)
            throw new ArgumentException($"RunConfig.Replicas needs at least two devices; got only '{items[0]}'. To train on one device use RunConfig.Device = {items[0]}.");
        return (kinds[0], indexes);
    }

    /// <summary>The number of replicas <paramref name="text"/> names; null for kind:all, known only once the devices are counted.</summary>
    public static int? Count(string text) => Parse(text).Indexes?.Length;

    static (DeviceKind Kind, int? Index) Item(string item)
    {
        string s = item.ToLowerInvariant();
        int colon = s.IndexOf(':');
        string kind = colon < 0 ? s : s[..colon], index = colon < 0 ? "" : s[(colon + 1)..];
        DeviceKind? k = kind switch { "cpu" => DeviceKind.Cpu, "cuda" => DeviceKind.Cuda, "opencl" => DeviceKind.OpenCL, _ => null };
        if (k is null || colon < 0)
            throw new DeviceUnavailableException($"Unknown device '{item}' in RunConfig.Replicas. {Usage}.");
        if (index == "all" && k != DeviceKind.Cpu) return (k.Value, null);
        if (!int.TryParse(index, out int n) || n < 0)
            throw new DeviceUnavailableException($"Unknown device '{item}' in RunConfig.Replicas. {Usage} (cpu:all is not one: name the CPU replicas).");
        return (k.Value, n);
    }

    static string Name(DeviceKind kind) => kind switch { DeviceKind.Cpu => "cpu", DeviceKind.Cuda => "cuda", _ => "opencl" };

    /// <summary>
    /// Opens every replica's device, in the order given (the first holds replica 0). A device that is absent or refused,
    /// or kind:all finding fewer than two, throws <see cref="DeviceUnavailableException"/> with nothing left open.
    /// </summary>
    public static IReadOnlyList<ComputeDevice> Open(string text, KernelChoice kernels)
    {
        var (kind, indexes) = Parse(text);
        if (indexes is null)
        {
            indexes = ComputeDevice.Survey().Where(r => r.Kind == kind && r.Usable).Select(r => r.Index).ToArray();
            if (indexes.Length < 2)
                throw new DeviceUnavailableException(
                    $"RunConfig.Replicas = {text} found {indexes.Length} usable {Name(kind)} device(s); data-parallel training needs at least two. " +
                    (indexes.Length == 1 ? $"Use RunConfig.Device = {Name(kind)}:{indexes[0]} to train on the one there is." : "Use RunConfig.Device = cpu, or see the 'devices' command."));
        }
        var opened = new List<ComputeDevice>();
        try
        {
            foreach (int index in indexes)
                opened.Add(kind == DeviceKind.Cpu
                    ? ComputeDevice.OpenCpuReplica(index, indexes.Length, kernels)
                    : ComputeDevice.Open($"{Name(kind)}:{index}", kernels));
            return opened;
        }
        catch
        {
            foreach (var d in opened) d.Dispose();
            throw;
        }
    }
}
