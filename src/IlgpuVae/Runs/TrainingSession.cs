using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Evaluation;
using IlgpuVae.IO;
using IlgpuVae.Metrics;
using IlgpuVae.Model;
using IlgpuVae.Runs.Settings;
using IlgpuVae.Settings;
using IlgpuVae.Training;

namespace IlgpuVae.Runs;

/// <summary>One epoch's numbers as they go into metrics.jsonl.</summary>
public sealed record EpochReport(int Epoch, int Epochs, LossTerms Train, LossTerms Test, double Seconds, double ImagesPerSecond)
{
    /// <summary>
    /// The KL weight of the epoch's last step: 1 − α, times a warm-up's factor while it lasts (<see cref="RunConfig.KlWarmupEpochs"/>);
    /// <see cref="LossTerms.Loss"/> of both sets weighs the KL so.
    /// </summary>
    public double KlWeight { get; init; }

    /// <summary>Whether the objective is β-TC-VAE's, whose decomposition of the KL the metrics then add (train and test).</summary>
    public bool TotalCorrelation { get; init; }

    /// <summary>Data-parallel replicas that trained the epoch (1: one device).</summary>
    public int Replicas { get; init; } = 1;

    /// <summary>Seconds the replicas spent exchanging codes, gradients and row terms and summing the gradients (0 on one device).</summary>
    public double ExchangeSeconds { get; init; }

    /// <summary>The metrics.jsonl object: the keys other tools rely on (epoch … images_per_second), then extras.</summary>
    public Dictionary<string, object?> ToMetrics(long step) => new Dictionary<string, object?>
    {
        [MetricKey.Epoch] = Epoch,
        [MetricKey.TrainLoss] = Train.Loss, [MetricKey.TrainRecon] = Train.Recon, [MetricKey.TrainKl] = Train.Kl, [MetricKey.TrainMmd] = Train.Mmd,
        [MetricKey.TestLoss] = Test.Loss, [MetricKey.TestRecon] = Test.Recon, [MetricKey.TestKl] = Test.Kl, [MetricKey.TestMmd] = Test.Mmd,
        [MetricKey.TestNegElbo] = Test.NegativeElbo,
        [MetricKey.Seconds] = Math.Round(Seconds, 3), [MetricKey.ImagesPerSecond] = Math.Round(ImagesPerSecond, 1),
        [MetricKey.TrainNegElbo] = Train.NegativeElbo, [MetricKey.Step] = step, [MetricKey.KlWeight] = KlWeight,
        // Host memory after the epoch: flat over a long run, since a step allocates nothing that lives on.
        [MetricKey.RssMb] = Math.Round(Environment.WorkingSet / 1048576.0, 1),
        [MetricKey.ManagedMb] = Math.Round(GC.GetTotalMemory(false) / 1048576.0, 1),
    }.WithReplicas(Replicas, ExchangeSeconds).WithTotalCorrelation(TotalCorrelation, Train, Test);
}

static class MetricsExtensions
{
    /// <summary>A data-parallel run's extra keys: its replicas and their exchange time; none for one device.</summary>
    public static Dictionary<string, object?> WithReplicas(this Dictionary<string, object?> metrics, int replicas, double exchangeSeconds)
    {
        if (replicas <= 1) return metrics;
        metrics[MetricKey.Replicas] = replicas;
        metrics[MetricKey.ExchangeSeconds] = Math.Round(exchangeSeconds, 3);
        return metrics;
    }

    /// <summary>β-TC-VAE's extra keys: the three terms of its loss on both sets; none for other objectives.</summary>
    public static Dictionary<string, object?> WithTotalCorrelation(this Dictionary<string, object?> metrics, bool totalCorrelation, LossTerms train, LossTerms test)
    {
        if (!totalCorrelation) return metrics;
        metrics[MetricKey.TrainIndexCodeMi] = train.IndexCodeMi;
        metrics[MetricKey.TrainTotalCorrelation] = train.TotalCorrelation;
        metrics[MetricKey.TrainDimensionWiseKl] = train.DimensionWiseKl;
        metrics[MetricKey.TestIndexCodeMi] = test.IndexCodeMi;
        metrics[MetricKey.TestTotalCorrelation] = test.TotalCorrelation;
        metrics[MetricKey.TestDimensionWiseKl] = test.DimensionWiseKl;
        return metrics;
    }
}

/// <summary>What a training session tells its user as it goes; the CLI draws it, tests record it.</summary>
internal interface ITrainingObserver
{
    void Info(string message);
    void EpochStarted(int epoch, int epochs, int batches, int batchSize);
    void StepCompleted(int batch, int batches, LossTerms terms);
    void EpochCompleted(EpochReport report);
}

/// <summary>
/// A whole training run: data, device, model, the epochs (each followed by a test-set evaluation and, with a run
/// folder, a checkpoint and a metrics line, in that order), then the pictures. A stop request is honoured after
/// the step in progress: the weights and the training state are saved there, and <c>--resume</c> continues from
/// that very step. Without a run folder (training from code on images in memory) nothing is written.
/// </summary>
internal static class TrainingSession
{
    /// <summary>Trains a new run (<paramref name="resumeFolder"/> null) or continues one to <paramref name="epochs"/> in total.</summary>
    public static RunFolder Run(RunConfig requested, string? outFolder, string? resumeFolder, int? epochs,
        ITrainingObserver observer, CancellationToken stop)
    {
        using var trained = Train(new(observer, stop)
        {
            Config = requested, OutFolder = resumeFolder is null ? outFolder ?? RunFolder.NewDefaultPath() : null,
            ResumeFolder = resumeFolder, Epochs = epochs,
        });
        return trained.Folder ?? throw new InternalFaultException("A run trained into a folder came back without it.");
    }

    /// <summary>The process link of a data-parallel job; one process by default. Only process 0 writes the run folder.</summary>
    static IProcessLink Link(IProcessLink? link) => link ?? SingleProcess.Instance;

    /// <summary>Trains and returns the model, alive on its device, as <paramref name="request"/> asks.</summary>
    public static TrainedModel Train(TrainingRequest request)
    {
        var (observer, stop, data, outFolder, resumeFolder) = (request.Observer, request.Stop, request.Data, request.OutFolder, request.ResumeFolder);
        var link = Link(request.Processes);
        // Under MPI every process reads the run folder to resume (config.json), but only process 0 writes one.
        if (link.Rank != 0 && resumeFolder is null) outFolder = null;
        var existing = resumeFolder is null ? null : RunFolder.OpenForResume(resumeFolder);
        // Process 0 writes the folder: it takes the lock before anything is tidied, so a run still going is left alone.
        if (link.Rank == 0 && existing is not null)
        {
            existing.TakeLock();
            existing.RemoveUnfinishedWrites();
            if (CheckpointCommit.Recover(existing) is string recovered) observer.Info(recovered);
        }
        using var writing = existing?.Lock;
        if (existing is { HasCheckpoint: true } && !File.Exists(existing.File(RunFolder.StateFile)))
            throw new RunFolderException($"'{existing.Path}' holds weights but no {RunFolder.StateFile} (the optimizer's state, which Vae.Save does not write), " +
                                         "so it cannot be continued; eval, sample, export and Vae.Load still open it. Start a new run with --out.");
        var config = existing is null ? request.Config : (request.AdjustResumed ?? (c => c))(existing.ReadConfig());
        config = (config with { Epochs = request.Epochs ?? config.Epochs }).Validate();
        if (existing is null) RunSettings.RequireChosenPieces(config);
        // The settings first, then the folder: a bad setting is the real error, whatever the folder holds.
        if (existing is null) RunFolder.CheckAvailable(outFolder);
        if (link.Size > 1 && config.Replicas is not null)
            throw new ArgumentException($"RunConfig.Replicas = {config.Replicas} cannot be combined with mpiexec: start one process per device instead (RunConfig.Device = cuda gives each process the GPU of its rank on its machine).");
        if (link.Size > 1 && config.IsBetaTcVae)
            throw new ArgumentException("RunConfig.Model = beta-tcvae cannot be combined with mpiexec: the estimator's gradient for each posterior's μ and log σ² " +
                                        "sums over every code of the batch, which the processes hold in shards. Train in one process.");
        if (link.Size > 1 && config.FreeBits > 0)
            throw new ArgumentException($"RunConfig.FreeBits = {config.FreeBits} cannot be combined with mpiexec: the clamp needs each dimension's KL averaged over the whole batch, " +
                                        "and the processes hold it in shards. Train in one process, or leave out RunConfig.FreeBits.");

        // The devices before the data: a device that is not there is refused before the data takes seconds to load.
        var kernels = KernelChoices.Parse(config.Kernels);
        IReadOnlyList<ComputeDevice> devices = config.Replicas is { } replicas ? ReplicaDevices.Open(replicas, kernels) : [ComputeDevice.Open(ProcessChecks.DeviceOf(config.Device, link), kernels)];
        var device = devices[0];
        var others = devices.Skip(1).ToList();
        VaeModel? model = null;
        try
        {
            (var train, var test, config) = LoadData(config, data, link, observer);
            var spec = config.ModelSpec(config.Image);
            var objective = config.Objective();
            int count = devices.Count * link.Size;
            config.RequireBatchFor(count);
            string where = count == 1 ? $"Device: {device.Describe()}"
                : (link.Size == 1 ? $"Devices: {count} replicas ({string.Join(", ", devices.Select(d => d.Describe()))})"
                    : $"Devices: {count} replicas in {link.Size} processes (process 0: {device.Describe()})") +
                  $", each a share of every batch of {config.BatchSize}";
            model = new VaeModel(device, spec, config.BatchSize, objective.PriorCount(config.BatchSize));
            observer.Info($"{where}{(device.RunsGpuKernels ? ", GPU kernels" : "")}; data: {train.Name} {train.Count} train / {test.Count} test, " +
                          $"{train.Height}×{train.Width}; model {spec}, {Size(model.Layout.Count)}.");
            var (folder, stopped) = new TrainingLoop(config, model, objective, link, observer).Run(existing, outFolder, others, train, test, stop);
            return new TrainedModel(config, device, model, folder) { Stopped = stopped };
        }
        catch (Exception e)
        {
            model?.Dispose();
            device.Dispose();
            if (Posix.IsDiskFull(e) && (existing?.Path ?? outFolder) is string folder) throw DiskFull(folder, e);
            throw;
        }
        finally
        {
            // The other replicas' devices serve training only; the trained model lives on the first.
            foreach (var d in others) d.Dispose();
        }
    }

    /// <summary>
    /// A full disk, in one line naming the folder and the checkpoint kept there: the commit leaves the last one whole
    /// and gives back the space of the one it could not finish.
    /// </summary>
    static RunFolderException DiskFull(string folder, Exception e)
    {
        string path = Path.GetFullPath(folder), weights = Path.Combine(path, RunFolder.ModelFile);
        string kept = "No checkpoint was saved yet.";
        try
        {
            if (File.Exists(weights) && Checkpoint.Position(weights) is { Step: long step } at)
                kept = $"The checkpoint after epoch {at.Epoch?.ToString() ?? "?"} (optimizer step {step}) is kept.";
        }
        catch (IO.SafeTensorsFormatException)
        {
            // The message is about the disk; what the checkpoint holds is for resume to say.
        }
        return new RunFolderException($"The disk holding {path} is full ({e.Message.TrimEnd('.')}). {kept} " +
                                      $"Free some space, then continue with train --resume {path}.");
    }

    /// <summary>What a model of this many parameters costs: each checkpoint holds them as float32.</summary>
    static string Size(int parameters) =>
        $"{parameters:N0} parameters, {parameters * 4.0 / (1 << 20):F1} MB a checkpoint";

    /// <summary>
    /// The data, checked against the settings (batch, test set, code size), and the settings completed from it: the
    /// image shape, the resolved objective weights and kernel parameter, the decoder's sizes.
    /// </summary>
    static (ImageSet Train, ImageSet Test, RunConfig Config) LoadData(RunConfig config, (ImageSet Train, ImageSet Test)? data,
        IProcessLink link, ITrainingObserver observer)
    {
        var (train, test) = data is { } given ? Checked(given, config) : RunData.Load(config, log: new ObserverWriter(observer));
        if (config.BatchSize > train.Count)
            throw new ArgumentException($"RunConfig.BatchSize = {config.BatchSize} is larger than the training set ({train.Count} images). Use a smaller batch.");
        CheckTestSize(config, test.Count);
        config = config with { ImageHeight = train.Height, ImageWidth = train.Width, ImageChannels = train.Channels };
        if (config.Latent > config.Image.Size)
            throw new ArgumentException(
                $"RunConfig.Latent = {config.Latent} is more than the {config.Image.Size} values of an image: such a code compresses nothing, and the layers " +
                $"to and from it grow with it. Use at most RunConfig.Latent = {config.Image.Size}; 20 to 64 is usual.");
        var spec = config.ModelSpec(config.Image);
        var objective = config.Objective();
        // Record the resolved weights and kernel parameter, so config.json states the objective in full.
        config = config with
        {
            Alpha = objective.Alpha,
            Lambda = objective.Lambda,
            ImqC = objective.Kernel == Kernels.MmdKernel.Imq ? objective.KernelParameter : config.ImqC,
            Bandwidth = objective.Kernel == Kernels.MmdKernel.Rbf ? objective.KernelParameter : config.Bandwidth,
            DecoderHidden = spec.DecoderHidden.ToArray(),
            DatasetSize = config.IsBetaTcVae && config.DatasetSize == 0 ? train.Count : config.DatasetSize,
        };
        if (link.Size > 1) ProcessChecks.CheckSameRun(link, config, train, test);
        // Recorded after the check: processes on other machines may see the same data under other absolute paths.
        if (data is null) config = config with { DataPath = RunData.PathOf(RunData.Source(config, null)) };
        return (train, test, config);
    }

    /// <summary>
    /// The test set must hold enough images for every estimate reported on it each epoch: the unbiased MMD² of
    /// test_mmd needs two, as does the aggregate MMD² of <see cref="RunConfig.EvalEvery"/>'s evaluation.
    /// </summary>
    static void CheckTestSize(RunConfig config, int count)
    {
        var objective = config.Objective();
        if (count < objective.MinimumBatch)
            throw new ArgumentException(
                $"The test set holds {count} image{(count == 1 ? "" : "s")}; the unbiased MMD² of the test loss (test_mmd) needs {ObjectiveSpec.UnbiasedMmdMinimum}. " +
                $"Use RunConfig.TestLimit = {ObjectiveSpec.UnbiasedMmdMinimum} or more (0 for all), or RunConfig.Estimator = biased.");
        if (config.EvalEvery > 0 && count < Evaluator.MinimumImages)
            throw new ArgumentException(
                $"The test set holds {count} image{(count == 1 ? "" : "s")}; the evaluation of RunConfig.EvalEvery needs {Evaluator.MinimumImages} for its aggregate MMD² (mmd_aggregate). " +
                $"Use RunConfig.TestLimit = {Evaluator.MinimumImages} or more (0 for all), or RunConfig.EvalEvery = 0.");
    }

    /// <summary>User-given images, checked like loaded ones: values in [0, 1], the test images shaped like the training ones.</summary>
    static (ImageSet Train, ImageSet Test) Checked((ImageSet Train, ImageSet Test) data, RunConfig config)
    {
        ImageSet.Validate(data.Train);
        ImageSet.Validate(data.Test);
        if (data.Test.Dim != data.Train.Dim || data.Test.Height != data.Train.Height || data.Test.Channels != data.Train.Channels)
            throw new ArgumentException($"The test images are {data.Test.Shape} but the training images are {data.Train.Shape}; give both sets the same shape.");
        config.RequireTrainedShape(data.Train, "The images");
        return data;
    }

    /// <summary>Passes the data loader's log lines to the observer.</summary>
    sealed class ObserverWriter(ITrainingObserver observer) : StringWriter
    {
        public override void WriteLine(string? value) => observer.Info(value ?? "");
    }
}
