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

    internal TrainedModel(RunConfig config, ComputeDevice device, VaeModel model, RunFolder? folder)
    {
        Config = config;
        Device = device;
        Model = model;
        Folder = folder;
    }

    public static TrainedModel Open(string path, string? configPath, string? deviceSpec, int batchSize, KernelChoice kernels = KernelChoice.Fastest)
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
        if (config.ImageHeight <= 0 || config.ImageWidth <= 0)
            throw new RunFolderException($"{configPath} does not record the image size (image_height, image_width).");
        var spec = config.ModelSpec(config.Image);
        var objective = config.Objective();
        var device = ComputeDevice.Open(deviceSpec ?? config.Device, kernels);
        try
        {
            var model = new VaeModel(device, spec, batchSize, objective.PriorCount(batchSize));
            try
            {
                Checkpoint.LoadWeights(weights, model);
                return new TrainedModel(config, device, model, folder);
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
