using System.Text.Json;
using IlgpuVae.Images;
using IlgpuVae.Metrics;

namespace IlgpuVae.Runs;

/// <summary>
/// Several runs' metrics per epoch on one chart: one line per run, named by its folder, for each metric asked
/// for (any numeric key of metrics.jsonl — the test −ELBO every epoch, or the evaluation's iwae_nll, mi,
/// active_units, mmd_aggregate and kl on the epochs that <c>--eval-every</c> chose).
/// </summary>
public static class RunComparison
{
    /// <summary>The chart's file name for <paramref name="metric"/>.</summary>
    public static string ChartName(string metric) => $"compare_{metric}.png";

    /// <summary>
    /// Writes one chart per metric into <paramref name="folder"/> and returns their paths. A run folder without
    /// metrics, or a metric no run recorded, is refused with the keys there are — before anything is written.
    /// </summary>
    public static IReadOnlyList<string> Write(IReadOnlyList<string> runs, IReadOnlyList<string> metrics, string folder)
    {
        if (runs.Count == 0) throw new ArgumentException("compare needs at least one run folder.");
        if (metrics.Count == 0) throw new ArgumentException("Give --metric, e.g. --metric mi or --metric test_neg_elbo,mi.");
        var rows = runs.Select(Read).ToList();
        var names = Names(runs);
        foreach (var metric in metrics)
            if (!rows.Any(r => r.Any(e => e.ContainsKey(metric))))
            {
                var keys = rows.SelectMany(r => r.SelectMany(e => e.Keys)).Distinct().Where(k => k != MetricKey.Epoch).Order();
                throw new ArgumentException($"No run recorded '{metric}'. Their metrics are: {string.Join(", ", keys)}. " +
                    "The evaluation's (iwae_nll, mi, active_units, mmd_aggregate, kl) appear only in runs trained with --eval-every.");
            }
        Directory.CreateDirectory(folder);
        var written = new List<string>();
        foreach (var metric in metrics)
        {
            var series = rows.Select((r, i) =>
            {
                var points = r.Where(e => e.ContainsKey(metric)).ToList();
                return (names[i], points.Select(e => e[MetricKey.Epoch]).ToArray(), points.Select(e => e[metric]).ToArray());
            }).ToList();
            string path = Path.Combine(folder, ChartName(metric));
            Plots.LossCurves(path, series, $"{metric} per epoch", "epoch", metric);
            written.Add(path);
        }
        return written;
    }

    /// <summary>Every epoch's numeric metrics of a run folder.</summary>
    static List<Dictionary<string, double>> Read(string run)
    {
        string path = Path.Combine(run, RunFolder.MetricsFile);
        if (!File.Exists(path))
            throw new ArgumentException($"'{run}' has no {RunFolder.MetricsFile}: give folders that train wrote.");
        try
        {
            return File.ReadLines(path).Where(l => l.Trim().Length > 0)
                .Select(l => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(l)!
                    .Where(kv => kv.Value.ValueKind == JsonValueKind.Number)
                    .ToDictionary(kv => kv.Key, kv => kv.Value.GetDouble()))
                .Where(e => e.ContainsKey(MetricKey.Epoch)).ToList();
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{path} is not a metrics file: {e.Message}", e);
        }
    }

    /// <summary>Each run's folder name, or its path where two folders share a name.</summary>
    static string[] Names(IReadOnlyList<string> runs)
    {
        var names = runs.Select(r => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(r)))).ToArray();
        return names.Distinct().Count() == names.Length ? names : runs.ToArray();
    }
}
