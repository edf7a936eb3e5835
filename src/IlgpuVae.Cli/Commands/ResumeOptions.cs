using System.CommandLine;
using System.Text.Json;
using IlgpuVae.Runs;

namespace IlgpuVae.Cli.Commands;

/// <summary>
/// What <c>train --resume RUN</c> does with the other options given: a resumed run keeps its saved configuration,
/// so an option that would change it is refused by name with both values; the few that change only how far and
/// where it runs are applied (<see cref="MayChange"/>). An option repeating its saved value is harmless.
/// </summary>
static class ResumeOptions
{
    /// <summary>How many epochs in all, on which devices and kernels, and how often the evaluation runs.</summary>
    public static readonly string[] MayChange = ["--epochs", "--device", "--replicas", "--kernels", "--eval-every", "--eval-iwae-k"];

    /// <summary>The options whose config.json key is not their name in snake_case.</summary>
    static readonly Dictionary<string, string> Keys = new() { ["--kl-warmup"] = "kl_warmup_epochs" };

    /// <summary>
    /// The saved configuration with the changes <see cref="MayChange"/> allows applied from <paramref name="given"/>
    /// (the options as parsed); throws <see cref="ArgumentException"/> naming every option that contradicts it.
    /// </summary>
    public static RunConfig Apply(ParseResult parse, IEnumerable<Option> options, RunConfig given, RunConfig saved, string folder)
    {
        var explicitly = options.Where(o => parse.GetResult(o) is { Implicit: false }).ToList();
        if (explicitly.FirstOrDefault(o => o.Name == "--out") is not null)
            throw new ArgumentException($"--out cannot be combined with --resume: the run continues in its own folder, {folder}.");
        var savedJson = JsonSerializer.SerializeToElement(saved, RunConfig.Json);
        var givenJson = JsonSerializer.SerializeToElement(given, RunConfig.Json);
        var conflicts = new List<(string Option, string Given, string Saved)>();
        foreach (var option in explicitly.Where(o => !MayChange.Contains(o.Name) && o.Name != "--resume"))
        {
            string key = Keys.GetValueOrDefault(option.Name, option.Name.TrimStart('-').Replace('-', '_'));
            if (!savedJson.TryGetProperty(key, out var was) || !givenJson.TryGetProperty(key, out var now))
                throw new InternalFaultException($"train's option {option.Name} has no config.json key {key}.");
            if (now.GetRawText() != was.GetRawText())
                conflicts.Add((option.Name, string.Join(" ", parse.GetResult(option)!.Tokens.Select(t => t.Value)), Text(was)));
        }
        if (conflicts.Count > 0)
            throw new ArgumentException(
                $"{Join(conflicts.Select(c => $"{c.Option} {c.Given}"))} {(conflicts.Count == 1 ? "differs" : "differ")} from the saved " +
                $"configuration of {folder} ({Join(conflicts.Select(c => $"{c.Option.TrimStart('-')} {c.Saved}"))}): a resumed run keeps it. " +
                $"Leave {(conflicts.Count == 1 ? "it" : "them")} out, or start a new run with --out; on resume only {Join(MayChange)} may change.");
        bool Has(string name) => explicitly.Any(o => o.Name == name);
        return saved with
        {
            Epochs = Has("--epochs") ? given.Epochs : saved.Epochs,
            // A device named alone replaces the saved replicas, and the other way round.
            Device = Has("--device") ? given.Device : saved.Device,
            Replicas = Has("--replicas") ? given.Replicas : Has("--device") ? null : saved.Replicas,
            Kernels = Has("--kernels") ? given.Kernels : saved.Kernels,
            EvalEvery = Has("--eval-every") ? given.EvalEvery : saved.EvalEvery,
            EvalIwaeK = Has("--eval-iwae-k") ? given.EvalIwaeK : saved.EvalIwaeK,
        };
    }

    static string Text(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText().Replace("\n", "").Replace(" ", "");

    static string Join(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count == 1 ? list[0] : $"{string.Join(", ", list[..^1])} and {list[^1]}";
    }
}
