using System.Text.RegularExpressions;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.IO;
using IlgpuVae.Runs;
using IlgpuVae.Settings;
using IlgpuVae.Training;

namespace IlgpuVae.Cli;

/// <summary>
/// The exceptions that mean the user asked for something impossible, or the device could not do it: one line,
/// exit code 1. An <see cref="InternalFaultException"/> is a bug: one line that says so, exit code 70.
/// </summary>
static class Errors
{
    public const int UserError = 1, InternalError = 70;

    public static bool IsUserError(Exception e) => e is ArgumentException or DataFormatException or SafeTensorsFormatException
        or RunFolderException or DeviceUnavailableException or DeviceFaultException or NumericalFaultException
        or IOException or UnauthorizedAccessException or InvalidDataException;

    /// <summary>The one line a failure prints on stderr: "error: " and its message in the command line's words.</summary>
    public static string Line(string message) => $"error: {ForCommandLine(message)}";

    // The library names a setting as a C# caller sets it (RunConfig.BatchSize, "RunConfig.Estimator = biased");
    // here the user typed an option (--batch-size, "--estimator biased").
    static readonly Regex Setting = new(@"\b(RunConfig|EvalOptions)\.([A-Z][A-Za-z]*)( = )?", RegexOptions.Compiled);

    /// <summary><paramref name="message"/> with every setting named as its command-line option.</summary>
    public static string ForCommandLine(string message) => Setting.Replace(message, m =>
        Option(m.Groups[1].Value, m.Groups[2].Value) + (m.Groups[3].Success ? " " : ""));

    static string Option(string owner, string property) =>
        (owner == nameof(RunConfig) ? SettingCatalog.Of<RunConfig>() : SettingCatalog.Of<Evaluation.EvalOptions>())
            .FirstOrDefault(s => s.Name == property)?.Option ?? "--" + Kebab(property);

    /// <summary>BatchSize → batch-size, ImqC → imq-c.</summary>
    static string Kebab(string name) => Regex.Replace(name, "(?<=[a-z0-9])([A-Z])", "-$1").ToLowerInvariant();
}
