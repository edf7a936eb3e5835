using System.Globalization;
using IlgpuVae.IO;
using IlgpuVae.Model;
using IlgpuVae.Training;

namespace IlgpuVae.Runs;

/// <summary>
/// Saving and loading a run's state. model.safetensors holds the weights alone, with PyTorch's names and
/// [out, in] float32 layout (Python's safetensors.torch.load_file reads it); training_state.safetensors holds
/// the optimizer's moment buffers and, as metadata, the completed epoch and step — the generator is
/// counter-based, so (seed, epoch, step) is its whole state — and, for a run stopped inside an epoch, where it
/// stopped. Both files carry the step, so a pair written by different saves is detected, and a reader such as eval
/// finds the epoch of the weights it read in the state of the same step. A run's pair is committed as one (<see cref="Save"/>).
/// </summary>
internal static class Checkpoint
{
    /// <summary>
    /// The weights and the training state after <paramref name="epoch"/> completed epochs (and <paramref name="partial"/>
    /// of the next), committed as one pair into <paramref name="folder"/>; <paramref name="beforeCommit"/> runs once both
    /// are written, before the commit.
    /// </summary>
    public static void Save(RunFolder folder, VaeModel model, Optimizer optimizer, int epoch, EpochProgress? partial, Action? beforeCommit = null) =>
        CheckpointCommit.Save(folder, path => SaveWeights(path, model, optimizer.Steps), path => SaveState(path, optimizer, epoch, partial), beforeCommit);

    public static void SaveWeights(string path, VaeModel model, long step) =>
        SafeTensors.Write(path, ModelTensors.Read(model).Select(t => new NamedTensor(t.Tensor.Name, t.Tensor.Shape, t.Data)).ToList(),
            new Dictionary<string, string> { ["step"] = Text(step) });

    /// <summary>
    /// The (completed epoch, optimizer step) the weights at <paramref name="weightsPath"/> were saved at; see the other overload.
    /// </summary>
    public static (int? Epoch, long? Step) Position(string weightsPath) =>
        Position(SafeTensors.ReadMetadata(weightsPath), weightsPath);

    /// <summary>
    /// The (completed epoch, optimizer step) of the weights at <paramref name="weightsPath"/>, whose metadata is
    /// <paramref name="weights"/>: the step from it, the epoch from the training state of the same step — beside the
    /// weights, or in the pending commit (<see cref="CheckpointCommit.PendingFolder"/>) while a commit moves the pair into
    /// place. Null where unknown (Vae.Save records step 0 and no state).
    /// </summary>
    public static (int? Epoch, long? Step) Position(IReadOnlyDictionary<string, string> weights, string weightsPath)
    {
        if (!weights.TryGetValue("step", out var text) || !long.TryParse(text, CultureInfo.InvariantCulture, out long step)) return (null, null);
        string folder = Path.GetDirectoryName(Path.GetFullPath(weightsPath))!;
        foreach (var state in new[] { Path.Combine(folder, RunFolder.StateFile), Path.Combine(folder, CheckpointCommit.PendingFolder, RunFolder.StateFile) })
        {
            try
            {
                var meta = SafeTensors.ReadMetadata(state);
                if (meta.TryGetValue("step", out var s) && s == text && meta.TryGetValue("epoch", out var e) &&
                    int.TryParse(e, CultureInfo.InvariantCulture, out int epoch)) return (epoch, step);
            }
            catch (SafeTensorsFormatException)
            {
                // Absent, or replaced while being read: the epoch stays unknown, the step is still right.
            }
        }
        return (null, step);
    }

    /// <summary>
    /// Loads weights into <paramref name="model"/> and returns the file's metadata, read with them; a file of another
    /// architecture is refused by name and shape, and one holding a NaN or an infinity by the tensor's name.
    /// </summary>
    public static IReadOnlyDictionary<string, string> LoadWeights(string path, VaeModel model)
    {
        var (tensors, metadata) = SafeTensors.ReadWithMetadata(path);
        foreach (var t in tensors) RequireFinite(path, t.Name, t.Data);
        var named = new Dictionary<string, (int[] Shape, float[] Data)>();
        foreach (var t in tensors) named[t.Name] = (t.Shape, t.Data);
        ModelTensors.Load(model, named, path);
        return metadata;
    }

    public static void SaveState(string path, Optimizer optimizer, int epoch, EpochProgress? partial)
    {
        var (steps, first, second) = optimizer.SaveState();
        var meta = new Dictionary<string, string>
        {
            ["epoch"] = Text(epoch), ["step"] = Text(steps), ["optimizer"] = optimizer.Spec.Kind.ToString(),
        };
        if (partial is not null)
        {
            meta["epoch_batch"] = Text(partial.Batch);
            meta["epoch_seen"] = Text(partial.Seen);
            meta["epoch_sums"] = string.Join(",", partial.Sums.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
            meta["epoch_seconds"] = partial.Seconds.ToString("R", CultureInfo.InvariantCulture);
        }
        SafeTensors.Write(path,
            [new NamedTensor("optimizer.first", [first.Length], first), new NamedTensor("optimizer.second", [second.Length], second)], meta);
    }

    /// <summary>
    /// Restores the optimizer; returns the completed epoch and, for a run stopped inside an epoch, where. The
    /// weights file must come from the same save (the same step).
    /// </summary>
    public static (int Epoch, EpochProgress? Partial) LoadState(string path, string weightsPath, Optimizer optimizer)
    {
        var meta = SafeTensors.ReadMetadata(path);
        var tensors = SafeTensors.Read(path).ToDictionary(t => t.Name, t => t.Data);
        if (!meta.TryGetValue("epoch", out var epoch) || !meta.TryGetValue("step", out var step) ||
            !tensors.TryGetValue("optimizer.first", out var first) || !tensors.TryGetValue("optimizer.second", out var second))
            throw new SafeTensorsFormatException($"{path} is not a training state: it lacks the epoch, step or optimizer moments.");
        RequireFinite(path, "optimizer.first", first);
        RequireFinite(path, "optimizer.second", second);
        if (meta.TryGetValue("optimizer", out var kind) && kind != optimizer.Spec.Kind.ToString())
            throw new SafeTensorsFormatException($"{path} holds {kind} state, but the run's optimizer is {optimizer.Spec.Kind}.");
        if (SafeTensors.ReadMetadata(weightsPath).TryGetValue("step", out var weightsStep) && weightsStep != step)
            throw new SafeTensorsFormatException(
                $"{weightsPath} was saved at step {weightsStep} but {path} at step {step}: the pair is inconsistent, and no committed pair " +
                "is left to recover (one file was replaced from elsewhere). Put back the file that matches, or start a new run.");
        optimizer.LoadState(long.Parse(step, CultureInfo.InvariantCulture), first, second);
        EpochProgress? partial = null;
        if (meta.TryGetValue("epoch_batch", out var batch))
            partial = new EpochProgress(int.Parse(batch, CultureInfo.InvariantCulture), int.Parse(meta["epoch_seen"], CultureInfo.InvariantCulture),
                meta["epoch_sums"].Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray(),
                double.Parse(meta["epoch_seconds"], CultureInfo.InvariantCulture));
        return (int.Parse(epoch, CultureInfo.InvariantCulture), partial);
    }

    /// <summary>No checkpoint holds a NaN or an infinity (training refuses to save one): such a value is a damaged file.</summary>
    static void RequireFinite(string path, string tensor, float[] values)
    {
        int at = Array.FindIndex(values, v => !float.IsFinite(v));
        if (at >= 0)
            throw new SafeTensorsFormatException($"{path}: tensor {tensor} holds {values[at].ToString(CultureInfo.InvariantCulture)} at element {at}; " +
                                                 "a checkpoint holds finite numbers only, so the file is damaged. Use another checkpoint, or train again.");
    }

    static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
}
