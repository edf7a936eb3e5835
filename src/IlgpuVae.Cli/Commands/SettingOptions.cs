using System.CommandLine;
using IlgpuVae.Runs;
using IlgpuVae.Settings;

namespace IlgpuVae.Cli.Commands;

/// <summary>
/// A command's options, one per setting a record declares (<see cref="SettingCatalog"/>: train's <see cref="RunConfig"/>,
/// eval's <see cref="Evaluation.EvalOptions"/>) — the name, help, type and default all from the declaration — and the
/// binding of what was parsed to a new record. Lists of sizes (64,128) are text on the command line.
/// </summary>
sealed class SettingOptions<T> where T : class, new()
{
    readonly List<(Setting Setting, Option Option, Func<ParseResult, object?> Read)> options;

    /// <summary>The options of every setting, or of those named (property names) for a command that takes a few.</summary>
    public SettingOptions(params string[] only) =>
        options = SettingCatalog.Of<T>().Where(s => only.Length == 0 || only.Contains(s.Name)).Select(Create).ToList();

    /// <summary>The options, in the order the settings are declared.</summary>
    public IEnumerable<Option> Options => options.Select(o => o.Option);

    /// <summary>The settings whose options <paramref name="parse"/> holds explicitly, by property name.</summary>
    public IReadOnlyCollection<string> Given(ParseResult parse) =>
        options.Where(o => parse.GetResult(o.Option) is { Implicit: false }).Select(o => o.Setting.Name).ToHashSet();

    /// <summary>The option of the setting named <paramref name="property"/>.</summary>
    public Option OptionOf(string property) => options.Single(o => o.Setting.Name == property).Option;

    /// <summary>A new record of every option's value, given or default; a setting whose default varies is left to the record (given only).</summary>
    public T Bind(ParseResult parse)
    {
        var config = new T();
        var given = Given(parse);
        foreach (var (setting, option, read) in options)
        {
            if (setting.Declaration.DefaultVaries && !given.Contains(setting.Name)) continue;
            object? value = read(parse);
            if (setting.Type == typeof(int[]))
                value = value is string text ? Sizes.Parse(text, option.Name) : setting.Default;
            config = setting.With(config, value);
        }
        return config;
    }

    static (Setting, Option, Func<ParseResult, object?>) Create(Setting setting)
    {
        var type = setting.Type == typeof(int[]) ? typeof(string) : setting.Type;
        object? value = setting.Default is int[] sizes ? string.Join(",", sizes) : setting.Default;
        bool hasDefault = value is not null && !setting.Declaration.DefaultVaries;
        var make = typeof(SettingOptions<T>).GetMethod(nameof(Make), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MakeGenericMethod(type);
        var (option, read) = ((Option, Func<ParseResult, object?>))make.Invoke(null, [setting.Option, setting.Declaration.Help, hasDefault, value])!;
        return (setting, option, read);
    }

    static (Option, Func<ParseResult, object?>) Make<TValue>(string name, string help, bool hasDefault, object? defaultValue)
    {
        var option = new Option<TValue>(name) { Description = help };
        if (hasDefault) option.DefaultValueFactory = _ => (TValue)defaultValue!;
        return (option, parse => parse.GetValue(option));
    }
}

/// <summary>Lists of sizes on the command line.</summary>
static class Sizes
{
    /// <summary>
    /// "512,256" → [512, 256]; "" → [] (none) where <paramref name="noneAllowed"/>. An empty or non-positive entry is
    /// refused, naming <paramref name="option"/>; <paramref name="what"/> names the values in the message.
    /// </summary>
    internal static int[] Parse(string text, string option, string what = "layer sizes", string example = "512,256", bool noneAllowed = true)
    {
        if (noneAllowed && text.Trim().Length == 0) return [];
        return text.Split(',', StringSplitOptions.TrimEntries).Select(p => int.TryParse(p, out int v) && v > 0 ? v
            : throw new ArgumentException($"{option} takes positive {what} separated by commas (e.g. {example}){(noneAllowed ? ", or '' for none" : "")}; " +
                                          (p.Length == 0 ? $"'{text}' has an empty one." : $"'{p}' is not one."))).ToArray();
    }
}
