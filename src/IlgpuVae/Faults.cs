namespace IlgpuVae;

/// <summary>
/// A broken promise inside IlgpuVae — a buffer too small for a launch, a state that cannot arise from any
/// input — as opposed to a user's mistake (an <see cref="ArgumentException"/> naming the value and what to do).
/// The message says so and what to report.
/// </summary>
public sealed class InternalFaultException(string detail, Exception? inner = null) : Exception(
    $"Internal error — a bug in IlgpuVae, not a problem with your input: {detail} Please report it with the command line you ran and this message.",
    inner)
{
    /// <summary>What went wrong, without the advice around it.</summary>
    public string Detail { get; } = detail;
}
