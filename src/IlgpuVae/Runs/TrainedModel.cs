using IlgpuVae.Compute;
using IlgpuVae.Model;

namespace IlgpuVae.Runs;

/// <summary>
/// A trained model opened for evaluation or sampling: from a run folder (config.json + model.safetensors),
/// or from a .safetensors file with the config.json that describes it.
/// </summary>
internal sealed class TrainedModel : IDisposable
{
    public RunConfig Config { get; }
    public ComputeDevice Device { get; }
    public VaeModel Model { get; }
    /// <summary>The run folder, when opened from one.</summary>
    public RunFolder? Folder { get; }
    /// <summary>
    /// The completed epoch and optimizer step of the checkpoint the weights were loaded from (null where the file does not
    /// say); both null for a model trained in this process.
    /// </summary>
    public (int? Epoch, long? Step) SavedAt { get; init; }
    /// <summary>Whether training ended early at a stop request (the folder, if any, holds where; resume continues there).</summary>
    public bool Stopped { get; init; }

    internal TrainedModel(RunConfig config, ComputeDevice device, VaeModel model, RunFolder? folder)
    {
        Config = config;
        Device = device;
        Model = model;
        Folder = folder;
    }

    public static TrainedModel Open(string path, string? configPath, string? deviceSpec, int batchSize, KernelChoice kernels = KernelChoice.Fastest) =>
        Open(path, configPath, deviceSpec, _ => batchSize, kernels);

    /// <summary>
    /// The batch evaluation runs in: the importance samples of four images at K = 1,000 in one decoder pass for
    /// dense models (fewer, larger launches: 10% faster); one image's for conv models, whose column buffers grow
    /// with the batch. The one-draw estimators keep passes of <see cref="Evaluation.Evaluator.PassRows"/>.
    /// </summary>
    public static int EvaluationBatch(RunConfig config) => config.IsConv ? 1000 : 4000;

    /// <summary>As the other overload, with the batch chosen from the run's settings.</summary>
    public static TrainedModel Open(string path, string? configPath, string? deviceSpec, Func<RunConfig, int> batchSize, KernelChoice kernels = KernelChoice.Fastest)
    {
        RunFolder? folder = null;
        string weights;
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) && !Directory.Exists(path))
        {
            if (!File.Exists(path)) throw new RunFolderException($"No checkpoint file at '{path}'.");
            configPath ??= Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, RunFolder.ConfigFile);
            if (!File.Exists(configPath))
                throw new RunFolderException($"'{path}' needs the config.json of its run: pass it with --config.");
            weights = path;
        }
        else
        {
            folder = RunFolder.OpenExisting(path);
            configPath ??= folder.File(RunFolder.ConfigFile);
            weights = folder.File(RunFolder.ModelFile);
        }
        var config = RunConfig.FromJson(File.ReadAllText(configPath), configPath).Validate();
        if (config.ImageHeight < 0 || config.ImageWidth < 0)
            throw new RunFolderException($"{configPath} records image_height {config.ImageHeight} and image_width {config.ImageWidth}: an image's size is positive. " +
                                         "Fix them to the size of the run's images, or train it again.");
        if (config.ImageHeight == 0 || config.ImageWidth == 0)
            throw new RunFolderException($"{configPath} does not record the image size (image_height, image_width).");
        var spec = config.ModelSpec(config.Image);
        var objective = config.Objective();
        var device = ComputeDevice.Open(deviceSpec ?? config.Device, kernels);
        try
        {
            int batch = batchSize(config);
            var model = new VaeModel(device, spec, batch, objective.PriorCount(batch));
            try
            {
                var metadata = Checkpoint.LoadWeights(weights, model);
                var savedAt = Checkpoint.Position(metadata, weights);
                return new TrainedModel(config, device, model, folder) { SavedAt = savedAt };
            }
            catch
            {
                model.Dispose();
                throw;
            }
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        Device.Dispose();
    }
}
