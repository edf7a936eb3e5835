namespace IlgpuVae.Settings;

/// <summary>
/// Declares a property of a settings record — a run's <see cref="Runs.RunConfig"/>, the evaluation's
/// <see cref="Evaluation.EvalOptions"/> — as a setting: its command-line option, its help text, and for a run's setting
/// the piece it applies to, whether a resumed run may change it, and what it excludes. The rest is read from the
/// property itself — its JSON key (the name in snake_case), its type, and its default (a new record's value) — so a
/// setting is declared once. From the declarations (<see cref="SettingCatalog"/>, <see cref="Runs.Settings.RunSettings"/>)
/// come the commands' options and help, the resume check, config.json's checks, the names in messages and the
/// options tables in the docs.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SettingAttribute(string option, string help) : Attribute
{
    /// <summary>The option on the command line, e.g. --kl-warmup.</summary>
    public string Option { get; } = option;

    /// <summary>One line for --help and the docs.</summary>
    public string Help { get; } = help;

    /// <summary>The piece the setting belongs to: given for a run without that piece, it is refused by name.</summary>
    public Piece AppliesTo { get; init; } = Piece.Any;

    /// <summary>Whether <c>train --resume</c> may change it (how far and where a run goes, not what it trains).</summary>
    public bool MayChangeOnResume { get; init; }

    /// <summary>
    /// Whether the default depends on other settings (the help says how): the command line then leaves the setting to
    /// <see cref="Runs.RunConfig.WithDefaultsFor"/> when it is not given.
    /// </summary>
    public bool DefaultVaries { get; init; }

    /// <summary>The property of a setting this one replaces: the two cannot both be given.</summary>
    public string? Excludes { get; init; }

    /// <summary>
    /// The first version of config.json that wrote the key; 0: every version did, so a file without it is damaged. A
    /// file from before <see cref="Since"/> reads the setting as its default, or as <see cref="WhenAbsentAttribute"/> says.
    /// </summary>
    public int Since { get; init; }
}

/// <summary>A value config.json gives a key its file lacks (written before the key existed), when it is not the default.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class WhenAbsentAttribute(object? value, string why) : Attribute
{
    /// <summary>The value an older file meant.</summary>
    public object? Value { get; } = value;

    /// <summary>Why, for the docs.</summary>
    public string Why { get; } = why;
}

/// <summary>A property config.json records about the data or the file itself rather than a choice of the user's.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RecordedAttribute(int since = 0) : Attribute
{
    /// <summary>As <see cref="SettingAttribute.Since"/>.</summary>
    public int Since { get; } = since;
}
