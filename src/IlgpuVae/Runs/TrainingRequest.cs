using IlgpuVae.Data;
using IlgpuVae.Training;

namespace IlgpuVae.Runs;

/// <summary>
/// What <see cref="TrainingSession.Train"/> is asked to do, by name: a new run of <see cref="Config"/>, or the run in
/// <see cref="ResumeFolder"/> continued; where it writes, which data it takes, how it reports and when it stops.
/// </summary>
internal sealed record TrainingRequest(ITrainingObserver Observer, CancellationToken Stop)
{
    /// <summary>A new run's settings (a resumed run reads its own).</summary>
    public RunConfig Config { get; init; } = new();

    /// <summary>Images given in memory, replacing the data set the settings name.</summary>
    public (ImageSet Train, ImageSet Test)? Data { get; init; }

    /// <summary>A new run's folder; with neither this nor <see cref="ResumeFolder"/> the run has no folder.</summary>
    public string? OutFolder { get; init; }

    /// <summary>The folder of a run to continue.</summary>
    public string? ResumeFolder { get; init; }

    /// <summary>Epochs in total, replacing the settings' (null: keep them).</summary>
    public int? Epochs { get; init; }

    /// <summary>The processes of a data-parallel job (null: this one alone).</summary>
    public IProcessLink? Processes { get; init; }

    /// <summary>Turns a resumed run's saved settings into those it runs with (the command line's allowed changes).</summary>
    public Func<RunConfig, RunConfig>? AdjustResumed { get; init; }
}
