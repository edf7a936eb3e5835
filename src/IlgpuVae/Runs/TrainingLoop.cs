using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Evaluation;
using IlgpuVae.Metrics;
using IlgpuVae.Model;
using IlgpuVae.Training;

namespace IlgpuVae.Runs;

/// <summary>
/// A run's training on a model that is ready on its device. <see cref="Run"/> sets it up — the optimizer, where the
/// epochs start (<see cref="Start"/>: from scratch, over again, or from a checkpoint), the data on the device, the
/// replicas, the trainer — and <see cref="Epochs"/> is the algorithm: epochs of steps, a stop request saved where it
/// came, each epoch finished (<see cref="FinishEpoch"/>: the test set's terms, the evaluation when due, the guard
/// against non-finite numbers, then the checkpoint and the metrics line), the pictures at the end. Only the process
/// holding the first replica writes; a run without a folder (training from code) writes nothing.
/// </summary>
internal sealed class TrainingLoop(RunConfig config, VaeModel model, ObjectiveSpec objective, IProcessLink link, ITrainingObserver observer)
{
    /// <summary>Trains; returns the run folder, if any, and whether a stop request ended the run early (saved where it stopped, without the pictures).</summary>
    public (RunFolder? Folder, bool Stopped) Run(RunFolder? existing, string? outFolder, IReadOnlyList<ComputeDevice> others,
        ImageSet train, ImageSet test, CancellationToken stop)
    {
        var optimizerSpec = config.OptimizerSpec();
        using var optimizer = new Optimizer(model.Device, optimizerSpec, model.Layout.Count);
        var (folder, done, partial) = Start(existing, outFolder, optimizer);
        // This process is the folder's one writer until the run ends, however it ends.
        using var writing = folder?.Lock;
        var device = model.Device;
        using var trainData = new DeviceDataSet(device, train.Pixels, train.Count, train.Dim);
        using var testData = new DeviceDataSet(device, test.Pixels, test.Count, test.Dim);
        using var replicas = others.Count > 0 || link.Size > 1
            ? new ReplicaGroup(new Replica(device, model, optimizer, trainData), others, train.Pixels, config.BatchSize,
                objective.PriorCount(config.BatchSize), optimizerSpec, link)
            : null;
        if (replicas is not null)
        {
            replicas.Synchronize();
            (done, partial) = ProcessChecks.ShareProgress(link, done, partial);
        }
        using var trainer = new Trainer(model, optimizer, objective, config.BatchSize, (ulong)config.Seed, config.DynamicBinarization, replicas,
            config.KlWarmupEpochs)
        { Epoch = done };
        try
        {
            return Epochs(folder, trainer, partial, trainData, testData, test, replicas?.Count ?? 1, stop);
        }
        catch (NumericalFaultException e)
        {
            throw new NumericalFaultException($"{e.Message} {Kept(folder)}Try a smaller RunConfig.Lr.");
        }
        catch (ILGPU.Runtime.AcceleratorException e)
        {
            // A device that fails mid-run (a failed launch, a lost GPU) ends the run with the last checkpoint intact.
            string advice = folder is null
                ? "Use a smaller RunConfig.BatchSize or another RunConfig.Device."
                : $"The last checkpoint in {folder.Path} is kept; continue with train --resume on this or another RunConfig.Device, or use a smaller RunConfig.BatchSize.";
            throw new DeviceFaultException($"{(replicas?.FailedDevice ?? device).Describe()} failed in epoch {trainer.Epoch + 1} ({e.Message.TrimEnd('.')}). {advice}", e);
        }
    }

    /// <summary>
    /// The algorithm, from epoch <see cref="Trainer.Epoch"/> + 1 (and within it from <paramref name="partial"/>, where a
    /// stopped run stopped) to the last: each epoch's steps, then its end; the pictures once all are done.
    /// </summary>
    (RunFolder? Folder, bool Stopped) Epochs(RunFolder? folder, Trainer trainer, EpochProgress? partial, DeviceDataSet trainData,
        DeviceDataSet testData, ImageSet test, int replicas, CancellationToken stop)
    {
        while (trainer.Epoch < config.Epochs)
        {
            var pass = trainer.BeginEpoch(trainData, partial);
            partial = null;
            observer.EpochStarted(pass.Epoch, config.Epochs, pass.Batches, config.BatchSize);
            for (int b = pass.FirstBatch; b < pass.Batches; b++)
            {
                // The terms are read a step late: they belong to the batch before this one.
                if (trainer.Step(pass, b) is { } read) observer.StepCompleted(read.Batch, pass.Batches, read.Terms);
                bool stopping = !trainer.AgreeToContinue(!stop.IsCancellationRequested);
                if (stopping && b + 1 < pass.Batches) return (SaveStopped(folder, trainer, pass, next: b + 1), true);
            }
            if (trainer.FinishSteps(pass) is { } last) observer.StepCompleted(last.Batch, pass.Batches, last.Terms);
            var summary = trainer.EndEpoch(pass);
            if (link.Rank == 0) FinishEpoch(folder, trainer, summary, testData, replicas);
        }
        if (folder is null) return (null, false);
        var pictures = RunPictures.WriteAll(folder, model, test, (ulong)config.Seed, observer);
        observer.Info($"Wrote {folder.Path}: {RunFolder.ConfigFile}, {RunFolder.MetricsFile}, {RunFolder.ModelFile}, " +
                      $"{RunFolder.StateFile}, {string.Join(", ", pictures)}.");
        return (folder, false);
    }

    /// <summary>
    /// Where the epochs start: a new run's weights initialized (and its folder made); a run stopped before its first
    /// checkpoint started over with its settings; or the checkpoint's weights, optimizer state and progress loaded.
    /// A process other than the first takes all that from the first one (<see cref="ReplicaGroup.Synchronize"/>).
    /// </summary>
    (RunFolder? Folder, int Done, EpochProgress? Partial) Start(RunFolder? existing, string? outFolder, Optimizer optimizer)
    {
        if (link.Rank != 0) return (null, 0, null);
        if (existing is { HasCheckpoint: false })
        {
            existing.ReadMetrics(upToEpoch: 0);
            existing.WriteConfig(config);
            model.Initialize((ulong)config.Seed);
            observer.Info($"Restarting {existing.Path} from the start: it stopped before its first checkpoint.");
            return (existing, 0, null);
        }
        if (existing is not null)
        {
            Checkpoint.LoadWeights(existing.File(RunFolder.ModelFile), model);
            var (done, partial) = Checkpoint.LoadState(existing.File(RunFolder.StateFile), existing.File(RunFolder.ModelFile), optimizer);
            existing.ReadMetrics(upToEpoch: done);
            existing.WriteConfig(config);
            observer.Info(partial is null
                ? $"Resuming {existing.Path} after epoch {done} of {config.Epochs} (optimizer step {optimizer.Steps})."
                : $"Resuming {existing.Path} in epoch {done + 1} of {config.Epochs}, after step {partial.Batch} (optimizer step {optimizer.Steps}).");
            return (existing, done, partial);
        }
        var folder = outFolder is null ? null : RunFolder.CreateNew(outFolder);
        folder?.WriteConfig(config);
        model.Initialize((ulong)config.Seed);
        if (folder is not null) observer.Info($"Run folder: {folder.Path}");
        return (folder, 0, null);
    }

    /// <summary>The weights and the training state saved where a stop request ended <paramref name="pass"/> (before batch <paramref name="next"/>), with how to go on.</summary>
    RunFolder? SaveStopped(RunFolder? folder, Trainer trainer, EpochPass pass, int next)
    {
        var stopped = trainer.Interrupt(pass, next);
        string where = $"Stopped in epoch {pass.Epoch} after step {stopped.Batch} of {pass.Batches}";
        if (folder is null)
        {
            observer.Info($"{where}.");
            return null;
        }
        Checkpoint.Save(folder, model, trainer.Optimizer, pass.Epoch - 1, stopped);
        observer.Info($"{where}; saved the weights and the training state in {folder.Path}. Continue with: train --resume {folder.Path}");
        return folder;
    }

    /// <summary>
    /// An epoch's end: the test set's terms, the evaluation when due, and — only when every number is finite, so a
    /// fault leaves the folder with the epochs before — the KL chart, the checkpoint and the metrics line.
    /// </summary>
    void FinishEpoch(RunFolder? folder, Trainer trainer, EpochSummary summary, DeviceDataSet testData, int replicas)
    {
        var optimizer = trainer.Optimizer;
        int epoch = summary.Epoch;
        var report = new EpochReport(epoch, config.Epochs, summary.Terms, trainer.Evaluate(testData), summary.Seconds, summary.ImagesPerSecond)
        {
            Replicas = replicas, ExchangeSeconds = summary.ExchangeSeconds, KlWeight = summary.KlWeight,
            TotalCorrelation = objective.TotalCorrelation is not null,
        };
        var metrics = report.ToMetrics(optimizer.Steps);
        var evaluation = config.EvalEvery > 0 && (epoch % config.EvalEvery == 0 || epoch == config.Epochs)
            ? AddEvaluation(metrics, testData) : null;
        NumericalGuard.RequireFinite(metrics, $"Training diverged in epoch {epoch}", "");
        if (folder is not null)
        {
            if (evaluation is not null) EvalReport.WriteKlChart(folder.File(EvalReport.KlChart), evaluation);
            // The metrics line is written before the commit: a crash before it leaves a line that resume drops.
            Checkpoint.Save(folder, model, optimizer, epoch, null, () => folder.AppendMetrics(metrics));
        }
        observer.EpochCompleted(report);
    }

    /// <summary>What the folder still holds after a fault, and how to go on from it; empty without a folder.</summary>
    static string Kept(RunFolder? folder) => folder is null ? ""
        : folder.HasCheckpoint ? $"The last checkpoint in {folder.Path} is kept; --resume {folder.Path} continues from it. "
        : $"Nothing was saved: {folder.Path} holds only its {RunFolder.ConfigFile}, and --resume {folder.Path} starts the run over. ";

    /// <summary>The evaluation's numbers on the test set, added to an epoch's metrics; returned for the KL chart.</summary>
    EvalResult AddEvaluation(Dictionary<string, object?> metrics, DeviceDataSet test)
    {
        var r = Evaluator.Run(model, objective, test, new EvalOptions
        {
            ImportanceSamples = config.EvalIwaeK, ElboSamples = 1, Seed = (ulong)config.Seed,
        }, config.DynamicBinarization);
        var evaluation = r.ToJson();
        foreach (var key in MetricKey.EpochEvaluation) metrics[key] = evaluation[key];
        return r;
    }
}
