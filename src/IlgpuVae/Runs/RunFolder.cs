using System.Text.Json;
using IlgpuVae.IO;

namespace IlgpuVae.Runs;

/// <summary>
/// A run's folder: config.json (all that reproduces the run), metrics.jsonl (one JSON object per epoch),
/// model.safetensors (weights only, PyTorch names), training_state.safetensors (the optimizer's moments and kind,
/// the step and completed epoch, and where a stopped epoch stopped; the seed is in config.json) and the pictures. Files are replaced atomically, so an interrupted run keeps its last
/// complete checkpoint.
/// </summary>
public sealed class RunFolder
{
    /// <summary>The names of a run folder's files: settings, per-epoch metrics, weights, optimizer state, evaluation.</summary>
    public const string ConfigFile = "config.json", MetricsFile = "metrics.jsonl", ModelFile = "model.safetensors",
        StateFile = "training_state.safetensors", EvalFile = "eval.json";

    /// <summary>The folder's full path.</summary>
    public string Path { get; }

    RunFolder(string path) => Path = System.IO.Path.GetFullPath(path);

    /// <summary>The full path of the file <paramref name="name"/> in the folder.</summary>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>
    /// A folder for a new run: <paramref name="requested"/>, or a new timestamped folder under runs/. A folder
    /// that already holds a run is refused, so nothing of it is overwritten.
    /// </summary>
    internal static RunFolder CreateNew(string? requested)
    {
        string path = requested ?? NewDefaultPath();
        CheckAvailable(path);
        Directory.CreateDirectory(path);
        return new RunFolder(path);
    }

    /// <summary>
    /// Throws <see cref="RunFolderException"/> when <paramref name="path"/> cannot take a new run. A folder with a
    /// config.json and no weights is a run stopped before its first checkpoint: the message says that
    /// <c>--resume</c> restarts it from the start, which <see cref="OpenForResume"/> does.
    /// </summary>
    internal static void CheckAvailable(string? path)
    {
        if (path is null) return;
        if (System.IO.File.Exists(path))
            throw new RunFolderException($"The output path '{path}' is a file, not a folder. Give --out a folder.");
        if (!Directory.Exists(path)) return;
        bool config = System.IO.File.Exists(System.IO.Path.Combine(path, ConfigFile));
        if (System.IO.File.Exists(System.IO.Path.Combine(path, ModelFile)))
            throw new RunFolderException(config
                ? $"The output folder '{path}' already holds a run. Use another --out, or continue it with --resume {path}."
                : $"The output folder '{path}' holds a {ModelFile} without a {ConfigFile}, which nothing can continue. Use another --out, or move that file away.");
        if (config)
            throw new RunFolderException(
                $"The output folder '{path}' already holds a run that stopped before its first checkpoint (a config.json, no weights). " +
                $"Restart it from the start with its saved settings with --resume {path}, or use another --out.");
    }

    /// <summary>
    /// A run to continue: it must hold config.json. Without model.safetensors it stopped before its first
    /// checkpoint (<see cref="HasCheckpoint"/> is false) and training restarts it from the start.
    /// </summary>
    internal static RunFolder OpenForResume(string path)
    {
        if (!Directory.Exists(path))
            throw new RunFolderException($"No run folder at '{path}'. Give the --out folder of a finished or interrupted train.");
        if (!System.IO.File.Exists(System.IO.Path.Combine(path, ConfigFile)))
            throw new RunFolderException($"'{path}' is not a run folder: it has no {ConfigFile}. Start a new run there with --out {path}.");
        return new RunFolder(path);
    }

    /// <summary>
    /// Deletes the temporary files of writes that never finished (a process killed in the middle of saving): the file
    /// each would have replaced is whole, as it was before. For a run taken over by resume only: a reader such as eval
    /// may look at a folder while its run still writes there.
    /// </summary>
    internal void RemoveUnfinishedWrites()
    {
        foreach (var temp in Directory.EnumerateFiles(Path, "*" + AtomicWrite.TempMarker + "*"))
            if (AtomicWrite.IsTemporary(temp)) System.IO.File.Delete(temp);
    }

    /// <summary>An existing run with weights, for eval, sample and export: it must hold config.json and model.safetensors.</summary>
    internal static RunFolder OpenExisting(string path)
    {
        var folder = OpenForResume(path);
        if (!folder.HasCheckpoint)
            throw new RunFolderException($"'{path}' holds a run that stopped before its first checkpoint: it has no {ModelFile} yet. " +
                                         $"Restart it from the start with train --resume {path}.");
        return folder;
    }

    /// <summary>Whether the run has saved weights (it reached its first checkpoint).</summary>
    internal bool HasCheckpoint => System.IO.File.Exists(File(ModelFile));

    /// <summary>A new timestamped folder under runs/ that does not exist yet.</summary>
    internal static string NewDefaultPath()
    {
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss");
        string path = System.IO.Path.Combine("runs", stamp);
        for (int i = 2; Directory.Exists(path); i++) path = System.IO.Path.Combine("runs", $"{stamp}-{i}");
        return path;
    }

    internal void WriteConfig(RunConfig config) => AtomicWrite.ReplaceText(File(ConfigFile), config.ToJson());

    internal RunConfig ReadConfig() => RunConfig.FromJson(System.IO.File.ReadAllText(File(ConfigFile)), File(ConfigFile));

    /// <summary>Appends one epoch's metrics as a single JSON line.</summary>
    internal void AppendMetrics(IReadOnlyDictionary<string, object?> metrics) =>
        System.IO.File.AppendAllText(File(MetricsFile), JsonSerializer.Serialize(metrics) + "\n");

    /// <summary>The metrics lines, each parsed; lines of epochs after <paramref name="upToEpoch"/> are dropped from the file.</summary>
    internal List<Dictionary<string, JsonElement>> ReadMetrics(int? upToEpoch = null)
    {
        var path = File(MetricsFile);
        if (!System.IO.File.Exists(path)) return [];
        var rows = System.IO.File.ReadAllLines(path).Where(l => l.Trim().Length > 0)
            .Select(l => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(l)!).ToList();
        if (upToEpoch is int last && rows.Any(r => r["epoch"].GetInt32() > last))
        {
            rows = rows.Where(r => r["epoch"].GetInt32() <= last).ToList();
            AtomicWrite.ReplaceText(path, string.Concat(rows.Select(r => JsonSerializer.Serialize(r) + "\n")));
        }
        return rows;
    }
}

/// <summary>A run folder that cannot be used as asked; the message says why and what to do.</summary>
public sealed class RunFolderException(string message) : Exception(message);
