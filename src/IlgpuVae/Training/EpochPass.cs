using System.Diagnostics;
using IlgpuVae.Data;
using IlgpuVae.Model;

namespace IlgpuVae.Training;

/// <summary>
/// One pass over a training set in its epoch's shuffled order, begun by <see cref="Trainer.BeginEpoch"/>: the batches,
/// the first one to train (past those an interrupted pass already took), the images and seconds so far, and the last
/// batch launched — the one whose terms the next read-back returns, a step late.
/// </summary>
internal sealed class EpochPass(DeviceDataSet data, int epoch, int batches, EpochProgress? from)
{
    readonly Stopwatch clock = Stopwatch.StartNew();

    public DeviceDataSet Data => data;

    /// <summary>The epoch this pass trains (1-based).</summary>
    public int Epoch => epoch;

    /// <summary>The batches the pass is cut into, a short last one included.</summary>
    public int Batches => batches;

    /// <summary>The first batch to train: 0, or where an interrupted pass stopped.</summary>
    public int FirstBatch => from?.Batch ?? 0;

    /// <summary>Images trained on so far, those of an interrupted pass included.</summary>
    public int Seen { get; private set; } = from?.Seen ?? 0;

    /// <summary>The number (1-based) of the last batch launched; 0 before the first.</summary>
    public int Launched { get; private set; }

    /// <summary>Seconds spent on the epoch, an interrupted pass's included.</summary>
    public double Seconds => clock.Elapsed.TotalSeconds + (from?.Seconds ?? 0);

    /// <summary>Records that batch <paramref name="batch"/> of <paramref name="rows"/> images was launched.</summary>
    public void Stepped(int batch, int rows) => (Launched, Seen) = (batch + 1, Seen + rows);
}

/// <summary>The loss terms of batch <paramref name="Batch"/> (1-based) of a pass, read back a step after it was launched.</summary>
internal sealed record BatchTerms(int Batch, LossTerms Terms);
