using System.Text.Json;
using IlgpuVae.IO;

namespace IlgpuVae.Runs;

/// <summary>
/// A run's folder: config.json (all that reproduces the run), metrics.jsonl (one JSON object per epoch),
/// model.safetensors (weights only, PyTorch names), training_state.safetensors (optimizer moments, step,
/// epoch, seed) and the pictures. Files are replaced atomically, so an interrupted run keeps its last
/// complete checkpoint.
/// </summary>
public sealed class RunFolder
{
    public const string ConfigFile = "config.json", MetricsFile = "metrics.jsonl", ModelFile = "model.safetensors",
        StateFile = "training_state.safetensors", EvalFile = "eval.json";

    public string Path { get; }

    RunFolder(string path) => Path = System.IO.Path.GetFullPath(path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>
    /// A folder for a new run: <paramref name="requested"/>, or a new timestamped folder under runs/. A folder
    /// that already holds a run is refused, so nothing of it is overwritten.
    /// </summary>
    public static RunFolder CreateNew(string? requested)
    {
        string path = requested ?? NewDefaultPath();
        CheckAvailable(path);
        Directory.CreateDirectory(path);
        return new RunFolder(path);
    }

    /// <summary>Throws <see cref="RunFolderException"/> when <paramref name="path"/> cannot take a new run.</summary>
    public static void CheckAvailable(string? path)
    {
        if (path is null) return;
        if (Directory.Exists(path) && (System.IO.File.Exists(System.IO.Path.Combine(path, ConfigFile)) ||
                                       System.IO.File.Exists(System.IO.Path.Combine(path, ModelFile))))
            throw new RunFolderException(
                $"The output folder '{path}' already holds a run. Use another --out, or continue it with --resume {path}.");
        if (System.IO.File.Exists(path))
            throw new RunFolderException($"The output path '{path}' is a file, not a folder. Give --out a folder.");
    }

    /// <summary>An existing run, for resume, eval and sample: it must hold config.json and model.safetensors.</summary>
    public static RunFolder OpenExisting(string path)
    {
        if (!Directory.Exists(path))
            throw new RunFolderException($"No run folder at '{path}'. Give the --out folder of a finished or interrupted train.");
        foreach (var name in new[] { ConfigFile, ModelFile })
            if (!System.IO.File.Exists(System.IO.Path.Combine(path, name)))
                throw new RunFolderException($"'{path}' is not a run folder: it has no {name}.");
        return new RunFolder(path);
    }

    static string NewDefaultPath()
    {
        string stamp = DateTime.Now.ToString("yyyyMMdd-HHmmss");
        string path = System.IO.Path.Combine("runs", stamp);
        for (int i = 2; Directory.Exists(path); i++) path = System.IO.Path.Combine("runs", $"{stamp}-{i}");
        return path;
    }

    public void WriteConfig(RunConfig config) => AtomicWrite.ReplaceText(File(ConfigFile), config.ToJson());

    public RunConfig ReadConfig() => RunConfig.FromJson(System.IO.File.ReadAllText(File(ConfigFile)), File(ConfigFile));

    /// <summary>Appends one epoch's metrics as a single JSON line.</summary>
    public void AppendMetrics(IReadOnlyDictionary<string, object> metrics) =>
        System.IO.File.AppendAllText(File(MetricsFile), JsonSerializer.Serialize(metrics) + "\n");

    /// <summary>The metrics lines, each parsed; lines of epochs after <paramref name="upToEpoch"/> are dropped from the file.</summary>
    public List<Dictionary<string, JsonElement>> ReadMetrics(int? upToEpoch = null)
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
