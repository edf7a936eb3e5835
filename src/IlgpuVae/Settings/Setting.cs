using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;

namespace IlgpuVae.Settings;

/// <summary>One declared setting: a property of a settings record (RunConfig, EvalOptions) and its <see cref="SettingAttribute"/>.</summary>
public sealed class Setting
{
    readonly object defaults;

    internal Setting(PropertyInfo property, SettingAttribute declaration, object defaults)
    {
        Property = property;
        Declaration = declaration;
        this.defaults = defaults;
    }

    internal PropertyInfo Property { get; }

    /// <summary>What <see cref="SettingAttribute"/> declares.</summary>
    public SettingAttribute Declaration { get; }

    /// <summary>The property's name, as the C# API spells the setting (RunConfig.KlWarmupEpochs).</summary>
    public string Name => Property.Name;

    /// <summary>The record that declares it (RunConfig).</summary>
    public Type Owner => Property.DeclaringType!;

    /// <summary>The option, as the command line spells it (--kl-warmup).</summary>
    public string Option => Declaration.Option;

    /// <summary>The property's type.</summary>
    public Type Type => Property.PropertyType;

    /// <summary>A new record's value.</summary>
    public object? Default => Property.GetValue(defaults);

    /// <summary>The value in <paramref name="owner"/>.</summary>
    public object? Get(object owner) => Property.GetValue(owner);

    /// <summary>A copy of <paramref name="owner"/> (a record) with this setting at <paramref name="value"/>.</summary>
    public T With<T>(T owner, object? value) where T : class
    {
        var copy = (T)typeof(T).GetMethod("<Clone>$")!.Invoke(owner, null)!;
        Property.SetValue(copy, value);
        return copy;
    }

    /// <summary>Whether <paramref name="owner"/> holds another value than a new record's.</summary>
    public bool IsGiven(object owner) => !SettingCatalog.SameValue(Get(owner), Default);
}

/// <summary>The settings a record declares (<see cref="SettingAttribute"/> on its properties), in declaration order.</summary>
public static class SettingCatalog
{
    static readonly ConcurrentDictionary<Type, IReadOnlyList<Setting>> Catalogs = new();

    /// <summary>The settings of <typeparamref name="T"/>, whose new instance holds the defaults.</summary>
    public static IReadOnlyList<Setting> Of<T>() where T : class, new() => Catalogs.GetOrAdd(typeof(T), _ =>
    {
        var defaults = new T();
        return typeof(T).GetProperties()
            .Where(p => p.GetCustomAttribute<SettingAttribute>() is not null)
            .OrderBy(p => p.MetadataToken)
            .Select(p => new Setting(p, p.GetCustomAttribute<SettingAttribute>()!, defaults)).ToList();
    });

    /// <summary>A value as the command line and the messages write it: 64,128 for a list, null as "none".</summary>
    public static string Text(object? value) => value switch
    {
        null => "none",
        string s => s,
        IEnumerable list => string.Join(",", list.Cast<object>()),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Equal values, lists by their elements, names in any case.</summary>
    public static bool SameValue(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (int[] x, int[] y) => x.SequenceEqual(y),
        (string x, string y) => string.Equals(x, y, StringComparison.OrdinalIgnoreCase),
        _ => Equals(a, b),
    };
}
