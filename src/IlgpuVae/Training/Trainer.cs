using IlgpuVae.Data;
using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Training;

/// <summary>
/// Mean loss terms over an epoch (weighted by batch size), its wall time and throughput, the seconds a replica
/// group spent exchanging codes, gradients and row terms (0 on one device), and the KL weight of its last step.
/// </summary>
internal sealed record EpochSummary(int Epoch, LossTerms Terms, double Seconds, double ImagesPerSecond, double ExchangeSeconds = 0, double KlWeight = double.NaN);

/// <summary>
/// Where an interrupted epoch stopped: batches done, images seen, the batch-weighted term sums so far and the
/// seconds spent — all a resumed epoch needs to end with the same numbers as an uninterrupted one.
/// </summary>
internal sealed record EpochProgress(int Batch, int Seen, double[] Sums, double Seconds);

/// <summary>
/// The training step and the epoch around it (the loop that sequences them is <c>Runs.TrainingLoop</c>): an epoch's
/// pass begun (<see cref="BeginEpoch"/>), then per batch (<see cref="Step"/>) gather (and binarize) on the device, draw the prior samples on the device (ε
/// is drawn inside the sampling), forward and backward, one optimizer launch, the loss terms reduced on the device
/// and read back one step late (<see cref="TermsReadback"/>), so the host never stalls the device, and the pass ended (<see cref="EndEpoch"/>) or interrupted. The randomness is
/// a function of (seed, epoch, step), so a run repeats exactly on the same accelerator, and so is the KL weight of a
/// warm-up (<see cref="KlWarmup"/>: a function of the step count), passed to the kernels as an argument. The step runs on
/// <see cref="IStepReplicas"/>: this model alone, or a <see cref="ReplicaGroup"/> (whose first replica is this model,
/// optimizer and data), each replica its shard of the same global batch; only the process holding replica 0 reads the terms.
/// </summary>
internal sealed class Trainer : IDisposable
{
    readonly VaeModel model;
    readonly Optimizer optimizer;
    readonly ObjectiveSpec objective;
    readonly int batchSize;
    readonly ulong seed;
    readonly bool binarize;
    readonly TermsReadback readback;
    readonly IStepReplicas replicas;
    readonly OneReplica? alone;
    readonly double klWarmupEpochs;
    readonly Action<int> computeCodes, computeDivergences, update;
    // The step in progress, read by the per-replica actions above (fields, so that a step allocates no closures).
    int stepStart, stepRows;
    bool withMmd;
    ulong binarizeKey, noiseStep;
    double? stepKlWeight;
    // Made from the training set's size at the first epoch or step; null without a warm-up.
    KlWarmup? warmup;

    /// <summary><paramref name="klWarmupEpochs"/>: the epochs of a KL warm-up (<see cref="KlWarmup"/>), 0 for none.</summary>
    public Trainer(VaeModel model, Optimizer optimizer, ObjectiveSpec objective, int batchSize, ulong seed, bool binarize, ReplicaGroup? group = null,
        double klWarmupEpochs = 0)
    {
        (this.model, this.optimizer, this.objective, this.batchSize, this.seed, this.binarize) = (model, optimizer, objective, batchSize, seed, binarize);
        this.klWarmupEpochs = klWarmupEpochs;
        readback = new TermsReadback(model.Device);
        alone = group is null ? new OneReplica(model, optimizer) : null;
        replicas = group ?? (IStepReplicas)alone!;
        computeCodes = ComputeCodes;
        computeDivergences = ComputeDivergences;
        update = Update;
    }

    public VaeModel Model => model;
    public Optimizer Optimizer => optimizer;
    public ObjectiveSpec Objective => objective;
    public int BatchSize => batchSize;
    /// <summary>Completed epochs.</summary>
    public int Epoch { get; set; }

    /// <summary>The KL weight of the last step taken: 1 − α, times the warm-up's factor once training has begun.</summary>
    public double KlWeight => KlWeightOf(optimizer.Steps);

    /// <summary>Step <paramref name="step"/>'s KL weight; exactly 1 − α without a warm-up (so such runs compute what they always did).</summary>
    double KlWeightOf(long step) => warmup is { } w ? objective.KlWeight * w.Factor(step) : objective.KlWeight;

    /// <summary>
    /// Steps an epoch of <paramref name="count"/> images takes: its batches, less a last one too small for the MMD
    /// estimator (<see cref="Step"/> skips it) — the S of the warm-up.
    /// </summary>
    public int StepsPerEpoch(int count) => count / batchSize + (IsTrained(count % batchSize) ? 1 : 0);

    /// <summary>Whether a batch of <paramref name="rows"/> is stepped on: the MMD estimator needs a few rows, so a short last batch may be skipped.</summary>
    bool IsTrained(int rows) => rows >= objective.MinimumBatch;

    /// <summary>
    /// Begins epoch <see cref="Epoch"/> + 1: its shuffled order (every replica's copy alike), the term sums and the
    /// clock — from the start, or from where <paramref name="from"/> says an interrupted pass stopped.
    /// </summary>
    public EpochPass BeginEpoch(DeviceDataSet data, EpochProgress? from = null)
    {
        alone?.Use(data);
        UseWarmupFor(data.Count);
        for (int i = 0; i < replicas.LocalCount; i++) replicas[i].Data.Shuffle(seed, Epoch);
        replicas.TakeExchangeSeconds();
        model.StartTotals(from?.Sums);
        return new EpochPass(data, Epoch + 1, Batches(data.Count), from);
    }

    /// <summary>
    /// One gradient step on batch <paramref name="batch"/> of the pass (with a replica group, of every replica's copy of
    /// it): each replica's codes of its shard — encoder, sampling, decoder, likelihood and their backward — then the
    /// codes exchanged, each replica's divergences and the rest of its backward, the gradients summed, the update, the
    /// row terms gathered. A short last batch too small for the MMD estimator is not trained on. Returns the terms of
    /// the step before it (null for the first of the pass, for a batch not trained on, and in every process but the
    /// first), checked: a non-finite term or gradient throws <see cref="NumericalFaultException"/> naming that step.
    /// </summary>
    public BatchTerms? Step(EpochPass pass, int batch)
    {
        int start = batch * batchSize, rows = Math.Min(batchSize, pass.Data.Count - start);
        if (!IsTrained(rows)) return null;
        alone?.Use(pass.Data);
        (stepStart, stepRows, withMmd) = (start, rows, objective.CanEstimateMmd(rows));
        binarizeKey = CounterRng.Key(seed, RandomStreams.Binarization, (ulong)Epoch);
        noiseStep = (ulong)optimizer.Steps;
        stepKlWeight = warmup is null ? null : KlWeightOf(optimizer.Steps + 1);
        replicas.ForEach(computeCodes);
        replicas.ExchangeCodes(rows, withMmd);
        replicas.ForEach(computeDivergences);
        replicas.ExchangeGradients(rows);
        replicas.ForEach(update);
        replicas.GatherRowTerms(rows, withMmd);
        int previous = pass.Launched;
        pass.Stepped(batch, rows);
        if (!replicas.HoldsFirstReplica) return null;
        model.ReduceTerms();
        return Checked(readback.Push(model.Terms, Epoch + 1, optimizer.Steps)) is { } read ? new BatchTerms(previous, read.Terms) : null;
    }

    void ComputeCodes(int i)
    {
        var (r, s) = (replicas[i], replicas.ShardOf(i, stepRows));
        if (s.Rows == 0) return;
        r.Data.Gather(stepStart + s.Offset, s.Rows, binarize, binarizeKey, r.Model.Input);
        r.Model.DrawNoise(seed, noiseStep, s.Rows, objective.PriorCount(stepRows), s.Offset);
        r.Model.ComputeCodes(objective, s, backward: true);
    }

    void ComputeDivergences(int i)
    {
        var (r, s) = (replicas[i], replicas.ShardOf(i, stepRows));
        if (s.Rows > 0) r.Model.ComputeDivergences(objective, s, backward: true, replicas.Codes(i, withMmd), stepKlWeight);
    }

    void Update(int i)
    {
        var r = replicas[i];
        r.Optimizer.Update(r.Model.Parameters, r.Model.Gradients, r.Model.Faults);
    }

    /// <summary>Waits for the pass's last step and returns its terms, checked as <see cref="Step"/> does (null in every process but the first).</summary>
    public BatchTerms? FinishSteps(EpochPass pass) => Checked(readback.Flush()) is { } last ? new BatchTerms(pass.Launched, last.Terms) : null;

    /// <summary>
    /// Whether every process goes on after this step: process 0's <paramref name="goOn"/> decides, so every process of a
    /// data-parallel job stops after the same step.
    /// </summary>
    public bool AgreeToContinue(bool goOn) => replicas.AgreeToContinue(goOn);

    /// <summary>
    /// Ends a pass stopped before batch <paramref name="next"/>: its last step waited for and checked, and where it stopped,
    /// for a checkpoint that a resumed run continues from (<see cref="BeginEpoch"/>).
    /// </summary>
    public EpochProgress Interrupt(EpochPass pass, int next)
    {
        FinishSteps(pass);
        return new EpochProgress(next, pass.Seen, model.TakeTotals(), pass.Seconds);
    }

    /// <summary>Ends a pass whose steps are finished (<see cref="FinishSteps"/>): the epoch is counted, and its mean terms, time and throughput returned.</summary>
    public EpochSummary EndEpoch(EpochPass pass)
    {
        double seconds = pass.Seconds;
        Epoch++;
        return new EpochSummary(Epoch, Mean(model.TakeTotals(), pass.Seen), seconds, pass.Seen / seconds, replicas.TakeExchangeSeconds(), KlWeight);
    }

    StepTerms? Checked(StepTerms? s)
    {
        if (s is null) return null;
        var t = s.Terms;
        if (!t.IsFinite)
            throw new NumericalFaultException(
                $"Training diverged at epoch {s.Epoch}, step {s.Step}: {FirstBadTerm(t)} is not finite " +
                $"(recon {t.Recon}, kl {t.Kl}, mmd {t.Mmd}).");
        if (s.Faults > 0)
            throw new NumericalFaultException(
                $"Training diverged at epoch {s.Epoch}, step {s.Step}: {s.Faults} gradient value(s) are not finite, " +
                $"first in {FirstBadGradient()} (loss {t.Loss}).");
        return s;
    }

    public void Dispose() => readback.Dispose();

    /// <summary>The warm-up over epochs of <paramref name="count"/> training images (set once: every epoch has the same steps).</summary>
    void UseWarmupFor(int count)
    {
        if (klWarmupEpochs > 0) warmup ??= new KlWarmup(klWarmupEpochs, StepsPerEpoch(count));
    }

    /// <summary>
    /// The mean terms over <paramref name="data"/>, forward only (see <see cref="DataSetTerms.Mean"/>), the loss with the
    /// KL weight of the last step taken: the objective the epoch ended optimizing.
    /// </summary>
    public LossTerms Evaluate(DeviceDataSet data) => DataSetTerms.Mean(model, data, objective, seed, binarize, klWeight: warmup is null ? null : KlWeight);

    /// <summary>The batches an epoch over <paramref name="count"/> images is cut into, a short last one included.</summary>
    public int Batches(int count) => (count + batchSize - 1) / batchSize;

    static LossTerms Mean(double[] sums, int count) => LossTerms.Mean(sums, count);

    string FirstBadGradient()
    {
        foreach (var (tensor, data) in ModelTensors.Read(model, gradients: true))
            if (data.Any(v => !float.IsFinite(v))) return tensor.Name;
        return "an unknown tensor";
    }

    static string FirstBadTerm(LossTerms t) =>
        !double.IsFinite(t.Recon) ? "recon" : !double.IsFinite(t.Kl) ? "kl" : !double.IsFinite(t.Mmd) ? "mmd"
        : !double.IsFinite(t.IndexCodeMi) ? "index-code MI" : !double.IsFinite(t.TotalCorrelation) ? "total correlation"
        : !double.IsFinite(t.DimensionWiseKl) ? "dimension-wise KL" : "loss";
}
