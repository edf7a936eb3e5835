using System.Globalization;
using IlgpuVae.IO;

namespace IlgpuVae.Runs;

/// <summary>
/// Saving and loading a run's state. model.safetensors holds the weights alone, with PyTorch's names and
/// [out, in] float32 layout (Python's safetensors.torch.load_file reads it); training_state.safetensors holds
/// the optimizer's moment buffers and, as metadata, the completed epoch and step — the generator is
/// counter-based, so (seed, epoch, step) is its whole state.
/// </summary>
public static class Checkpoint
{
    public static void SaveWeights(string path, VaeModel model) =>
        SafeTensors.Write(path, model.ReadTensors().Select(t => new NamedTensor(t.Tensor.Name, t.Tensor.Shape, t.Data)).ToList());

    /// <summary>Loads weights into <paramref name="model"/>; a file of another architecture is refused by name and shape.</summary>
    public static void LoadWeights(string path, VaeModel model)
    {
        var tensors = SafeTensors.Read(path);
        var named = new Dictionary<string, (int[] Shape, float[] Data)>();
        foreach (var t in tensors) named[t.Name] = (t.Shape, t.Data);
        model.LoadTensors(named, path);
    }

    public static void SaveState(string path, Optimizer optimizer, int epoch)
    {
        var (steps, first, second) = optimizer.SaveState();
        SafeTensors.Write(path,
            [new NamedTensor("optimizer.first", [first.Length], first), new NamedTensor("optimizer.second", [second.Length], second)],
            new Dictionary<string, string>
            {
                ["epoch"] = epoch.ToString(CultureInfo.InvariantCulture),
                ["step"] = steps.ToString(CultureInfo.InvariantCulture),
                ["optimizer"] = optimizer.Spec.Kind.ToString(),
            });
    }

    /// <summary>Restores the optimizer and returns the completed epoch.</summary>
    public static int LoadState(string path, Optimizer optimizer)
    {
        var meta = SafeTensors.ReadMetadata(path);
        var tensors = SafeTensors.Read(path).ToDictionary(t => t.Name, t => t.Data);
        if (!meta.TryGetValue("epoch", out var epoch) || !meta.TryGetValue("step", out var step) ||
            !tensors.TryGetValue("optimizer.first", out var first) || !tensors.TryGetValue("optimizer.second", out var second))
            throw new SafeTensorsFormatException($"{path} is not a training state: it lacks the epoch, step or optimizer moments.");
        if (meta.TryGetValue("optimizer", out var kind) && kind != optimizer.Spec.Kind.ToString())
            throw new SafeTensorsFormatException($"{path} holds {kind} state, but the run's optimizer is {optimizer.Spec.Kind}.");
        optimizer.LoadState(long.Parse(step, CultureInfo.InvariantCulture), first, second);
        return int.Parse(epoch, CultureInfo.InvariantCulture);
    }
}
