using System.CommandLine;
using System.Text.Json;
using IlgpuVae.Runs;
using IlgpuVae.Runs.Settings;
using IlgpuVae.Settings;

namespace IlgpuVae.Cli.Commands;

/// <summary>
/// What <c>train --resume RUN</c> does with the other options given: a resumed run keeps its saved configuration,
/// so an option that would change it is refused by name with both values; the few declared to change only how far
/// and where it runs (<see cref="SettingAttribute.MayChangeOnResume"/>) are applied, and one replaces a saved setting
/// it excludes (--device replaces saved --replicas, and the other way round). An option repeating its saved value is harmless.
/// </summary>
static class ResumeOptions
{
    /// <summary>The options a resumed run may change.</summary>
    public static IEnumerable<string> MayChange => RunSettings.All.Where(s => s.Declaration.MayChangeOnResume).Select(s => s.Option);

    /// <summary>
    /// The saved configuration with the changes the declarations allow applied from <paramref name="given"/> (the
    /// options as parsed); throws <see cref="ArgumentException"/> naming every option that contradicts it.
    /// </summary>
    public static RunConfig Apply(ParseResult parse, SettingOptions<RunConfig> options, RunConfig given, RunConfig saved, string folder)
    {
        if (parse.GetResult(parse.CommandResult.Command.Options.Single(o => o.Name == "--out")) is { Implicit: false })
            throw new ArgumentException($"--out cannot be combined with --resume: the run continues in its own folder, {folder}.");
        var explicitly = options.Given(parse).Select(RunSettings.Of).ToList();
        var conflicts = new List<(string Option, string Given, string Saved)>();
        foreach (var setting in explicitly.Where(s => !s.Declaration.MayChangeOnResume))
        {
            var (now, was) = (setting.Get(given), setting.Get(saved));
            if (!SettingCatalog.SameValue(now, was))
                conflicts.Add((setting.Option, string.Join(" ", parse.GetResult(options.OptionOf(setting.Name))!.Tokens.Select(t => t.Value)), SettingCatalog.Text(was)));
        }
        if (conflicts.Count > 0)
            throw new ArgumentException(
                $"{Join(conflicts.Select(c => $"{c.Option} {c.Given}"))} {(conflicts.Count == 1 ? "differs" : "differ")} from the saved " +
                $"configuration of {folder} ({Join(conflicts.Select(c => $"{c.Option.TrimStart('-')} {c.Saved}"))}): a resumed run keeps it. " +
                $"Leave {(conflicts.Count == 1 ? "it" : "them")} out, or start a new run with --out; on resume only {Join(MayChange)} may change.");
        var resumed = saved;
        foreach (var setting in explicitly.Where(s => s.Declaration.MayChangeOnResume))
        {
            resumed = setting.With(resumed, setting.Get(given));
            // A setting named alone replaces the saved one it excludes.
            foreach (var other in RunSettings.All.Where(o => o.Declaration.Excludes == setting.Name || setting.Declaration.Excludes == o.Name))
                if (!explicitly.Contains(other)) resumed = other.With(resumed, other.Default);
        }
        return resumed;
    }

    static string Join(IEnumerable<string> items)
    {
        var list = items.ToList();
        return list.Count == 1 ? list[0] : $"{string.Join(", ", list[..^1])} and {list[^1]}";
    }
}
