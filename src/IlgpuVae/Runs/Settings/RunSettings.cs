using System.Reflection;
using System.Text.Json;
using IlgpuVae.Settings;

namespace IlgpuVae.Runs.Settings;

/// <summary>
/// Every setting of a run, as <see cref="RunConfig"/>'s properties declare them (<see cref="SettingAttribute"/>), and the
/// rules that follow from the declarations alone: the settings of a piece the run does not have, settings that exclude
/// each other, and the keys config.json may hold.
/// </summary>
public static class RunSettings
{
    /// <summary>The config.json format this version writes; a file of a later one is refused as such.</summary>
    public const int FormatVersion = 4; // 3: data_path; 4: dataset_size

    /// <summary>The settings in the order RunConfig declares them.</summary>
    public static IReadOnlyList<Setting> All { get; } = SettingCatalog.Of<RunConfig>();

    /// <summary>The setting of the property named <paramref name="name"/>.</summary>
    public static Setting Of(string name) => All.FirstOrDefault(s => s.Name == name)
        ?? throw new InternalFaultException($"RunConfig.{name} is not a declared setting.");

    /// <summary>The config.json key of a <see cref="RunConfig"/> property: its name in snake_case.</summary>
    public static string Key(string property) => RunConfig.Json.PropertyNamingPolicy!.ConvertName(property);

    /// <summary>Every key config.json may hold, and whether every version wrote it.</summary>
    static readonly Dictionary<string, bool> KeysEveryVersionWrote = typeof(RunConfig).GetProperties()
        .Select(p => (p, Setting: p.GetCustomAttribute<SettingAttribute>(), Recorded: p.GetCustomAttribute<RecordedAttribute>()))
        .Where(x => x.Setting is not null || x.Recorded is not null)
        .ToDictionary(x => Key(x.p.Name), x => (x.Setting?.Since ?? x.Recorded!.Since) == 0);

    /// <summary>
    /// Refuses config.json's keys that no version wrote, keys every version wrote that are missing, and a format newer
    /// than this version's; returns the values its missing keys stand for where that is not a new run's default.
    /// </summary>
    internal static RunConfig CheckKeys(JsonElement root, RunConfig read, string source)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new ArgumentException($"{source} is not a valid run configuration: it must hold one JSON object of settings, as train writes it.");
        // The format first: a newer file's new keys are unknown here, and "update" is the advice that helps.
        if (read.FormatVersion > FormatVersion)
            throw new ArgumentException($"{source} was written by a newer version of IlgpuVae (config format {read.FormatVersion}; this one " +
                                        $"reads up to {FormatVersion}): update IlgpuVae to use this run.");
        foreach (var property in root.EnumerateObject())
            if (!KeysEveryVersionWrote.ContainsKey(property.Name))
                throw new ArgumentException($"{source} holds the key '{property.Name}', which no version of IlgpuVae writes: " +
                                            $"correct or remove it (the keys are listed in the docs' options table).");
        var missing = KeysEveryVersionWrote.Where(k => k.Value && !root.TryGetProperty(k.Key, out _)).Select(k => k.Key).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"{source} lacks {string.Join(", ", missing.Select(k => $"'{k}'"))}, which every version of IlgpuVae " +
                                        "writes: the file is damaged. Restore it from the run's copy, or start a new run.");
        foreach (var property in typeof(RunConfig).GetProperties())
            if (property.GetCustomAttribute<WhenAbsentAttribute>() is { } absent && !root.TryGetProperty(Key(property.Name), out _))
            {
                read = read with { };
                property.SetValue(read, absent.Value);
            }
        return read;
    }

    /// <summary>
    /// Refuses a setting given for a piece the run does not have, and two given settings that exclude each other — in
    /// the C# API's names, which the command line turns into its options. A new run's check: a saved run keeps what it had.
    /// </summary>
    /// <param name="config">The run's settings.</param>
    /// <param name="given">The properties given explicitly (the command line's options); null: those holding another value than a new run's.</param>
    public static void RequireChosenPieces(RunConfig config, IReadOnlyCollection<string>? given = null)
    {
        bool IsGiven(Setting s) => given?.Contains(s.Name) ?? s.IsGiven(config);
        foreach (var setting in All.Where(IsGiven))
        {
            if (setting.Declaration.AppliesTo is var piece and not Piece.Any && !IsChosen(piece, config))
                throw new ArgumentException($"RunConfig.{setting.Name} = {SettingCatalog.Text(setting.Get(config))} belongs to {Choice(piece)}, and this run has " +
                                            $"{string.Join(" and ", ChoosersOf(piece).Select(c => $"RunConfig.{c.Property} = {SettingCatalog.Text(Of(c.Property).Get(config))}").Distinct())}: " +
                                            $"it would be ignored. Leave it out, or choose {Choice(piece)}.");
            if (setting.Declaration.Excludes is { } other && IsGiven(Of(other)))
                throw new ArgumentException($"RunConfig.{setting.Name} = {SettingCatalog.Text(setting.Get(config))} and RunConfig.{other} = {SettingCatalog.Text(Of(other).Get(config))} " +
                                            "exclude each other: give one of them.");
        }
    }

    /// <summary>Whether <paramref name="config"/> has <paramref name="piece"/>.</summary>
    public static bool IsChosen(Piece piece, RunConfig config) => piece == Piece.Any || ChoosersOf(piece).Any(c =>
        c.Values.Count == 0 ? Of(c.Property).IsGiven(config)
            : c.Values.Any(v => string.Equals(v, Of(c.Property).Get(config) as string, StringComparison.OrdinalIgnoreCase)));

    /// <summary>How a run chooses <paramref name="piece"/>, in the C# API's words ("RunConfig.Arch = conv").</summary>
    public static string Choice(Piece piece) => string.Join(" or ", ChoosersOf(piece).Select(c =>
        c.Values.Count == 0 ? $"a RunConfig.{c.Property} other than {SettingCatalog.Text(Of(c.Property).Default)}" : $"RunConfig.{c.Property} = {string.Join("|", c.Values)}"));

    static IEnumerable<ChosenByAttribute> ChoosersOf(Piece piece) =>
        typeof(Piece).GetField(piece.ToString())!.GetCustomAttributes<ChosenByAttribute>();
}
