using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Training;

/// <summary>A step's loss terms and fault count as read back, with the epoch and step they belong to.</summary>
internal sealed record StepTerms(int Epoch, long Step, LossTerms Terms, int Faults);

/// <summary>
/// Reads each training step's terms back to the host one step late, so the device never waits for the host:
/// after step t is launched, its terms are copied asynchronously into page-locked memory behind its kernels and
/// an event is recorded; then the host waits for step t − 1's event only — step t keeps the device busy
/// meanwhile — and reads that step's terms. One read per step, of <see cref="Term.Count"/> doubles.
/// </summary>
internal sealed class TermsReadback : IDisposable
{
    readonly Accelerator accelerator;
    readonly PageLockedArray1D<double>[] host;
    readonly ProfilingMarker?[] done = new ProfilingMarker?[2];
    readonly (int Epoch, long Step)?[] pending = new (int, long)?[2];
    int next;

    public TermsReadback(ComputeDevice device)
    {
        accelerator = device.Accelerator;
        host = [accelerator.AllocatePageLocked1D<double>(Term.Count), accelerator.AllocatePageLocked1D<double>(Term.Count)];
    }

    /// <summary>Queues the copy of <paramref name="terms"/> (step <paramref name="step"/> of <paramref name="epoch"/>) and returns the step before it, if one is pending.</summary>
    public StepTerms? Push(ArrayView<double> terms, int epoch, long step)
    {
        int slot = next;
        next ^= 1;
        var stream = accelerator.DefaultStream;
        terms.SubView(0, Term.Count).CopyToPageLockedAsync(stream, host[slot]);
        done[slot]?.Dispose();
        done[slot] = stream.AddProfilingMarker();
        pending[slot] = (epoch, step);
        return Take(next);
    }

    /// <summary>Waits for the last pushed step and returns its terms (null when nothing is pending).</summary>
    public StepTerms? Flush() => Take(next ^ 1) is { } last ? last : Take(next);

    StepTerms? Take(int slot)
    {
        if (pending[slot] is not { } tag) return null;
        pending[slot] = null;
        done[slot]!.Synchronize();
        var values = host[slot].GetArray();
        return new StepTerms(tag.Epoch, tag.Step, LossTerms.From(values), (int)values[Term.Faults]);
    }

    public void Dispose()
    {
        foreach (var marker in done) marker?.Dispose();
        foreach (var array in host) array.Dispose();
    }
}
