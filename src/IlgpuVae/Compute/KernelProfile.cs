using System.Diagnostics;
using ILGPU.Runtime;

namespace IlgpuVae.Compute;

/// <summary>
/// Where a step's time goes, kernel by kernel (<c>bench --profile</c>): while a <see cref="KernelSet"/> holds one,
/// every launch waits for the device and adds the time since the previous launch finished to its kernel's entry,
/// so host work between launches counts towards the launch after it. Waiting after each launch serializes the
/// device, so the entries add up to more than an unprofiled step; they say where time goes, not how fast a step is.
/// </summary>
internal sealed class KernelProfile
{
    readonly Dictionary<string, (long Launches, double Milliseconds)> entries = [];
    readonly Stopwatch clock = Stopwatch.StartNew();
    double last;

    /// <summary>Runs <paramref name="work"/> with every launch on <paramref name="device"/> waited for and timed, and returns the profile.</summary>
    public static KernelProfile During(ComputeDevice device, Action work)
    {
        var profile = new KernelProfile();
        device.Kernels.Profile = profile;
        try
        {
            profile.Restart(device.Accelerator);
            work();
        }
        finally { device.Kernels.Profile = null; }
        return profile;
    }

    /// <summary>Waits for the device and starts the next interval (before the first profiled step).</summary>
    public void Restart(Accelerator accelerator)
    {
        accelerator.Synchronize();
        last = clock.Elapsed.TotalMilliseconds;
    }

    /// <summary>Waits for the launch just made and charges the interval to <paramref name="kernel"/>.</summary>
    public void Launched(string kernel, Accelerator accelerator)
    {
        accelerator.Synchronize();
        double now = clock.Elapsed.TotalMilliseconds;
        var (launches, milliseconds) = entries.GetValueOrDefault(kernel);
        entries[kernel] = (launches + 1, milliseconds + now - last);
        last = now;
    }

    /// <summary>Each kernel's launches and milliseconds per step over <paramref name="steps"/> steps, the costliest first.</summary>
    public IReadOnlyList<KernelShare> PerStep(int steps) => entries
        .Select(e => new KernelShare(e.Key, (double)e.Value.Launches / steps, e.Value.Milliseconds / steps))
        .OrderByDescending(e => e.Milliseconds).ToList();

    /// <summary>The table of <paramref name="shares"/>: milliseconds per <paramref name="unit"/>, share, launches, kernel.</summary>
    public static IEnumerable<string> Table(IReadOnlyList<KernelShare> shares, string unit)
    {
        double total = shares.Sum(e => e.Milliseconds);
        yield return $"  {"ms/" + unit,10} {"share",6} {"launches",8}  kernel (each launch waited for: {total:F2} ms a {unit} in all)";
        foreach (var e in shares)
            yield return $"  {e.Milliseconds,10:F3} {100 * e.Milliseconds / total,5:F1}% {e.Launches,8:F0}  {e.Kernel}";
    }
}

/// <summary>One kernel's share of a profiled step: its launches and milliseconds per step.</summary>
internal sealed record KernelShare(string Kernel, double Launches, double Milliseconds);
