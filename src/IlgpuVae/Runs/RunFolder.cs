using System.Text.Json;
using IlgpuVae.IO;
using IlgpuVae.Metrics;

namespace IlgpuVae.Runs;

/// <summary>
/// A run's folder: config.json (all that reproduces the run), metrics.jsonl (one JSON object per epoch),
/// model.safetensors (weights only, PyTorch names), training_state.safetensors (the optimizer's moments and kind,
/// the step and completed epoch, and where a stopped epoch stopped; the seed is in config.json), the pictures, and
/// train.lock (<see cref="RunLock"/>: one writer at a time). Files are replaced atomically and a checkpoint's pair is
/// committed as one (<see cref="CheckpointCommit"/>), so an interrupted run keeps its last complete checkpoint.
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
    /// A folder for a new run, locked for this process (<see cref="Lock"/>): <paramref name="requested"/>, or a new
    /// timestamped folder under runs/. A folder that already holds a run is refused, so nothing of it is overwritten;
    /// the check is repeated under the lock, so of two runs started on one folder together only one gets it.
    /// Without <paramref name="locked"/> (a model saved once, whole, by Vae.Save) no lock is taken.
    /// </summary>
    internal static RunFolder CreateNew(string? requested, bool locked = true)
    {
        string path = requested ?? NewDefaultPath();
        if (IssuedDefaults.ContainsKey(path)) path = ClaimDefault(path);
        CheckAvailable(path);
        Directory.CreateDirectory(path);
        var folder = new RunFolder(path);
        if (!locked) return folder;
        folder.Lock = RunLock.Acquire(folder.Path);
        try
        {
            CheckAvailable(path, lockHeld: true);
            return folder;
        }
        catch
        {
            folder.Lock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The lock this process holds on the folder as its one writer (<see cref="RunLock"/>); null for a folder only read.
    /// Disposing it ends the writing.
    /// </summary>
    internal RunLock? Lock { get; private set; }

    /// <summary>Takes the folder's lock for this process (a resumed run), or throws naming the process that holds it.</summary>
    internal void TakeLock() => Lock ??= RunLock.Acquire(Path);

    /// <summary>
    /// Throws <see cref="RunFolderException"/> when <paramref name="path"/> cannot take a new run. A folder with a
    /// config.json and no weights is a run stopped before its first checkpoint: the message says that
    /// <c>--resume</c> restarts it from the start, which <see cref="OpenForResume"/> does. A folder another process
    /// trains is refused naming that process, unless <paramref name="lockHeld"/> says this process holds its lock.
    /// </summary>
    internal static void CheckAvailable(string? path, bool lockHeld = false)
    {
        // A default path is claimed with a suffix when taken (CreateNew), never refused.
        if (path is null || IssuedDefaults.ContainsKey(path)) return;
        if (System.IO.File.Exists(path))
            throw new RunFolderException($"The output path '{path}' is a file, not a folder. Give --out a folder.");
        if (!Directory.Exists(path)) return;
        // A run in progress is named as such (its process and host), before what its files say.
        if (!lockHeld) RunLock.RequireFree(path);
        bool config = System.IO.File.Exists(System.IO.Path.Combine(path, ConfigFile));
        if (System.IO.File.Exists(System.IO.Path.Combine(path, ModelFile)))
            throw new RunFolderException(config
                ? $"The output folder '{path}' already holds a run. Use another --out, or continue it with --resume {path} once no process trains it."
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

    /// <summary>
    /// A new timestamped path under runs/ (<paramref name="parent"/>). It is claimed when the run's folder is made
    /// (<see cref="CreateNew"/>): each folder is created only where none exists, atomically, with a suffix -2, -3, …
    /// on collision, so runs started in the same second get folders of their own.
    /// </summary>
    internal static string NewDefaultPath(string parent = "runs")
    {
        string path = System.IO.Path.Combine(parent, DateTime.Now.ToString("yyyyMMdd-HHmmss"));
        IssuedDefaults.TryAdd(path, 0);
        return path;
    }

    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> IssuedDefaults = new();

    /// <summary>The first of <paramref name="path"/>, path-2, path-3, … that this call creates.</summary>
    static string ClaimDefault(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        if (Posix.TryCreateFolder(path)) return path;
        for (int i = 2; ; i++)
            if (Posix.TryCreateFolder($"{path}-{i}")) return $"{path}-{i}";
    }

    internal void WriteConfig(RunConfig config) => AtomicWrite.ReplaceText(File(ConfigFile), config.ToJson());

    internal RunConfig ReadConfig() => RunConfig.FromJson(System.IO.File.ReadAllText(File(ConfigFile)), File(ConfigFile));

    /// <summary>Appends one epoch's metrics as a single JSON line, flushed to disk (it belongs to the checkpoint committed next).</summary>
    internal void AppendMetrics(IReadOnlyDictionary<string, object?> metrics)
    {
        using var stream = new FileStream(File(MetricsFile), FileMode.Append, FileAccess.Write);
        stream.Write(System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(metrics) + "\n"));
        stream.Flush(flushToDisk: true);
    }

    /// <summary>
    /// The metrics lines, each parsed; lines of epochs after <paramref name="upToEpoch"/> are dropped from the file, as is
    /// a last line cut short (no newline, not JSON: a process stopped while appending it). Any other line that is not a
    /// metrics object is the user's edit and is refused naming the file and line.
    /// </summary>
    internal List<Dictionary<string, JsonElement>> ReadMetrics(int? upToEpoch = null)
    {
        var path = File(MetricsFile);
        if (!System.IO.File.Exists(path)) return [];
        string text = System.IO.File.ReadAllText(path);
        var lines = text.Split('\n');
        var rows = new List<Dictionary<string, JsonElement>>();
        bool torn = false;
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length == 0) continue;
            var row = ParseMetricsLine(lines[i]);
            if (row is null && i == lines.Length - 1 && !text.EndsWith('\n'))
            {
                torn = true;
                continue;
            }
            rows.Add(row ?? throw new RunFolderException(
                $"{path}, line {i + 1}, is not a metrics object with a whole-number \"epoch\": '{Shorten(lines[i])}'. " +
                "Fix or delete that line (each line is one epoch's JSON object), then run the command again."));
        }
        if (torn || upToEpoch is int last && rows.Any(r => r[MetricKey.Epoch].GetInt32() > last))
        {
            rows = rows.Where(r => upToEpoch is not int l || r[MetricKey.Epoch].GetInt32() <= l).ToList();
            AtomicWrite.ReplaceText(path, string.Concat(rows.Select(r => JsonSerializer.Serialize(r) + "\n")));
        }
        return rows;
    }

    /// <summary>One metrics line, or null when it is not a JSON object holding a whole-number "epoch".</summary>
    static Dictionary<string, JsonElement>? ParseMetricsLine(string line)
    {
        try
        {
            var row = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(line);
            return row is not null && row.TryGetValue(MetricKey.Epoch, out var epoch) && epoch.ValueKind == JsonValueKind.Number && epoch.TryGetInt32(out _)
                ? row : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    static string Shorten(string line) => line.Length <= 60 ? line : line[..60] + "…";
}

/// <summary>A run folder that cannot be used as asked; the message says why and what to do.</summary>
public sealed class RunFolderException(string message) : Exception(message);
