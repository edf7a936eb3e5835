using IlgpuVae.Model;
using IlgpuVae.Runs;

namespace IlgpuVae;

/// <summary>What a <see cref="TrainingProgress"/> report is about.</summary>
public enum TrainingStage
{
    /// <summary>A line of information: the device and data, the run folder, a resume or a stop.</summary>
    Message,
    /// <summary>An epoch begins: <see cref="TrainingProgress.Epoch"/> of <see cref="TrainingProgress.Epochs"/>, with its step count.</summary>
    EpochStarted,
    /// <summary>A step's loss terms arrived (they lag the device by one step).</summary>
    Step,
    /// <summary>An epoch ended: <see cref="TrainingProgress.Report"/> holds its train and test terms.</summary>
    EpochCompleted,
}

/// <summary>
/// One report of a training run, for an <see cref="IProgress{T}"/>. A value type, so reporting every step
/// allocates nothing. Which fields mean something depends on <see cref="Stage"/>.
/// </summary>
/// <param name="Stage">What happened.</param>
/// <param name="Epoch">The epoch (1-based) the report belongs to; 0 for messages.</param>
/// <param name="Epochs">The epochs of the whole run.</param>
/// <param name="Step">The steps done in this epoch (<see cref="TrainingStage.Step"/>).</param>
/// <param name="Steps">The steps of one epoch.</param>
/// <param name="BatchSize">Images per step.</param>
/// <param name="Terms">The step's loss terms (<see cref="TrainingStage.Step"/>).</param>
/// <param name="Report">The finished epoch (<see cref="TrainingStage.EpochCompleted"/>).</param>
/// <param name="Message">The line of information (<see cref="TrainingStage.Message"/>).</param>
public readonly record struct TrainingProgress(TrainingStage Stage, int Epoch, int Epochs, int Step, int Steps, int BatchSize,
    LossTerms Terms, EpochReport? Report, string? Message);

/// <summary>A training run's observer that forwards everything to an <see cref="IProgress{T}"/>.</summary>
sealed class ProgressObserver(IProgress<TrainingProgress>? progress) : ITrainingObserver
{
    int epoch, epochs, batchSize;

    public void Info(string message) => progress?.Report(new(TrainingStage.Message, 0, epochs, 0, 0, batchSize, default, null, message));

    public void EpochStarted(int epoch, int epochs, int batches, int batchSize)
    {
        (this.epoch, this.epochs, this.batchSize) = (epoch, epochs, batchSize);
        progress?.Report(new(TrainingStage.EpochStarted, epoch, epochs, 0, batches, batchSize, default, null, null));
    }

    public void StepCompleted(int batch, int batches, LossTerms terms) =>
        progress?.Report(new(TrainingStage.Step, epoch, epochs, batch, batches, batchSize, terms, null, null));

    public void EpochCompleted(EpochReport report) =>
        progress?.Report(new(TrainingStage.EpochCompleted, report.Epoch, report.Epochs, 0, 0, batchSize, report.Train, report, null));
}
