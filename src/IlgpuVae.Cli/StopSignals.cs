using System.Diagnostics;
using System.Runtime.InteropServices;

namespace IlgpuVae.Cli;

/// <summary>
/// SIGINT (Ctrl+C) and SIGTERM (what timeout, kill, systemd and job schedulers send) ask a run to stop after the
/// step in progress and save there; the command then exits 130 or 143, the shells' codes for those signals, so a
/// script can tell an interrupted run from a finished one. A signal again within <see cref="StopPolicy.RepeatWindow"/>
/// is the same request — GNU timeout signals the child and then its process group, so the child sees two — and a
/// later one quits at once, as the signal would have without this: the checkpoint files are replaced atomically, so
/// the last complete one is intact.
/// </summary>
sealed class StopSignals : IDisposable
{
    readonly CancellationTokenSource source;
    readonly Action<string> say;
    readonly StopPolicy policy = new();
    readonly PosixSignalRegistration[] registrations;

    public StopSignals(CancellationToken outer, Action<string> say)
    {
        source = CancellationTokenSource.CreateLinkedTokenSource(outer);
        this.say = say;
        registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal), PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal)];
    }

    /// <summary>Cancelled by the first signal (or by the caller's token).</summary>
    public CancellationToken Token => source.Token;

    /// <summary>The exit code of a run stopped by SIGINT (128 + 2), or by its caller's token.</summary>
    public const int InterruptedExit = 130;

    /// <summary>130 after SIGINT, 143 after SIGTERM (128 + the signal's number); null when none arrived.</summary>
    public int? ExitCode => policy.First switch
    {
        PosixSignal.SIGINT => InterruptedExit,
        PosixSignal.SIGTERM => 143,
        _ => null,
    };

    void OnSignal(PosixSignalContext context)
    {
        var decision = policy.Receive(context.Signal, Stopwatch.GetElapsedTime(0));
        // Cancel keeps the process alive; left false, the runtime does what the signal does by default: it ends it.
        context.Cancel = decision != StopPolicy.Decision.Quit;
        string name = context.Signal == PosixSignal.SIGINT ? "Ctrl+C" : "SIGTERM";
        if (decision == StopPolicy.Decision.Quit)
            say($"{name} again: quitting at once; the last complete checkpoint, if any, is kept.");
        if (decision != StopPolicy.Decision.Stop) return;
        say($"{name}: stopping after this step to save there (the same again a second later quits at once)…");
        source.Cancel();
    }

    public void Dispose()
    {
        foreach (var r in registrations) r.Dispose();
        source.Dispose();
    }
}

/// <summary>What a stop signal means, given when the first one came: stop after the step, the same request again, or quit now.</summary>
sealed class StopPolicy
{
    public enum Decision { Stop, Repeat, Quit }

    /// <summary>A signal this soon after the first is taken as the same request.</summary>
    public static readonly TimeSpan RepeatWindow = TimeSpan.FromSeconds(1);

    readonly object gate = new();
    TimeSpan firstAt;

    /// <summary>The first signal received; null before any.</summary>
    public PosixSignal? First { get; private set; }

    /// <summary>Decides on a signal that arrives at <paramref name="now"/> (any monotonic clock).</summary>
    public Decision Receive(PosixSignal signal, TimeSpan now)
    {
        lock (gate)
        {
            if (First is null)
            {
                (First, firstAt) = (signal, now);
                return Decision.Stop;
            }
            return now - firstAt <= RepeatWindow ? Decision.Repeat : Decision.Quit;
        }
    }
}
