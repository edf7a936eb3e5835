using System.CommandLine;
using IlgpuVae.Runs.Settings;
using IlgpuVae.Settings;

namespace IlgpuVae.Cli.Commands;

/// <summary>
/// The options that choose where a command runs, declared once: <c>--device</c> (an accelerator, as <c>devices</c>
/// lists them) and <c>--kernels</c> (which kernel set it runs), with the same names, help and values in every command.
/// </summary>
static class DeviceOptions
{
    /// <summary>What --device takes.</summary>
    public const string Devices = SettingTexts.Devices;

    /// <summary>What --kernels takes.</summary>
    public const string KernelSets = SettingTexts.KernelSets;

    /// <summary>--device: one accelerator, defaulting to <paramref name="defaultValue"/> (null: <paramref name="absent"/> says what happens).</summary>
    public static Option<string?> Device(string? defaultValue, string? absent = null, string? extra = null)
    {
        var option = new Option<string?>("--device") { Description = Devices + (absent is null ? "" : $" (default: {absent})") + (extra is null ? "" : $"; {extra}") };
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        return option;
    }

    /// <summary>--kernels: one kernel set, fastest by default.</summary>
    public static Option<string> Kernels(string defaultValue = "fastest") =>
        new("--kernels") { Description = KernelSets, DefaultValueFactory = _ => defaultValue };

    /// <summary>--device of a measurement over several accelerators: a comma-separated list.</summary>
    public static Option<string> DeviceList() =>
        new("--device") { Description = $"Comma-separated devices to measure: each {Devices}", DefaultValueFactory = _ => "auto" };

    /// <summary>--kernels of a measurement over several kernel sets: a comma-separated list.</summary>
    public static Option<string> KernelList() =>
        new("--kernels") { Description = $"Comma-separated kernel sets to measure: each {KernelSets}", DefaultValueFactory = _ => "fastest" };
}
