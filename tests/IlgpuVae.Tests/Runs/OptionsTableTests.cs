using System.Text;
using IlgpuVae.Runs;
using IlgpuVae.Runs.Settings;
using IlgpuVae.Settings;
using IlgpuVae.Tests.Golden;

namespace IlgpuVae.Tests.Runs;

/// <summary>
/// docs/options/train.md and eval.md are generated from the settings' declarations, so they cannot go stale: this test
/// fails when a page and the declarations differ, and with UPDATE_DOCS=1 it writes the pages instead.
/// </summary>
public sealed class OptionsTableTests
{
    static string PagePath(string command) => Path.Combine(GoldenFolders.Root, "docs", "options", command + ".md");

    /// <summary>The page: one row per setting — option, config.json key, default, the piece it belongs to, whether resume may change it, help.</summary>
    internal static string Page()
    {
        var page = new StringBuilder();
        page.AppendLine("# `train` options and config.json keys");
        page.AppendLine();
        page.AppendLine("Generated from the settings' declarations (`[Setting]` on `RunConfig`'s properties) by");
        page.AppendLine("`UPDATE_DOCS=1 dotnet test -c Release --filter OptionsTableTests`; a test fails when this page and the");
        page.AppendLine("declarations differ. Each option is the C# property of the same name in `RunConfig` (`--kl-warmup` is");
        page.AppendLine("`KlWarmupEpochs`), and each is written to config.json under its key. A setting of a piece the run does not have");
        page.AppendLine("is refused; on `train --resume` only the settings marked *resume* may change. A key that config.json files of");
        page.AppendLine("older versions lack reads as its default (or as the note says); a key every version wrote (*always*) must be there.");
        page.AppendLine();
        page.AppendLine("| option | config.json key | default | for | resume | in every file | what it does |");
        page.AppendLine("|---|---|---|---|---|---|---|");
        foreach (var s in RunSettings.All)
        {
            string piece = s.Declaration.AppliesTo == Piece.Any ? "" : AsOptions(RunSettings.Choice(s.Declaration.AppliesTo));
            string @default = s.Declaration.DefaultVaries ? "(see help)" : s.Default is null ? "none" : SettingCatalog.Text(s.Default);
            string help = s.Declaration.Help + (s.Declaration.Excludes is { } other ? $"; not with {RunSettings.Of(other).Option}" : "");
            page.AppendLine($"| `{s.Option}` | `{RunSettings.Key(s.Name)}` | `{@default}` | {piece} | {(s.Declaration.MayChangeOnResume ? "resume" : "")} | " +
                            $"{(s.Declaration.Since == 0 ? "always" : "")} | {help.Replace("|", "\\|")} |");
        }
        page.AppendLine();
        page.AppendLine($"Also in config.json: `image_height`, `image_width` (the data's image size, recorded at the first epoch), `kl_term` (how the KL");
        page.AppendLine($"term was computed, for the reader), `data_path` (the absolute path of `--data` when it names a file or folder, so every");
        page.AppendLine($"command finds the data from any working directory; since format 3) and `format_version` ({RunSettings.FormatVersion}; a file of a later");
        page.AppendLine($"format is refused, one without the key is 1).");
        return page.ToString();
    }

    /// <summary>"RunConfig.Arch = conv" as the command line says it: "--arch conv".</summary>
    static string AsOptions(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"RunConfig\.(\w+)( = )?",
        m => RunSettings.Of(m.Groups[1].Value).Option + (m.Groups[2].Success ? " " : ""));

    /// <summary>eval's page: one row per declared evaluation setting.</summary>
    internal static string EvalPage()
    {
        var page = new StringBuilder();
        page.AppendLine("# `eval` options");
        page.AppendLine();
        page.AppendLine("Generated from the declarations (`[Setting]` on `EvalOptions`' and `DisentanglementOptions`' properties) by");
        page.AppendLine("`UPDATE_DOCS=1 dotnet test -c Release --filter OptionsTableTests`. Each option is the C# property named in the");
        page.AppendLine("second column: of `EvalOptions`, which `Vae.Evaluate` takes, or of `DisentanglementOptions` (the sample sizes of");
        page.AppendLine("`--disentanglement`), which `DisentanglementMetrics.Measure` takes. `eval` also takes `RUN`, `--config`, `--device`,");
        page.AppendLine("`--kernels`, `--data`, `--limit`, `--out`, `--profile`, `--disentanglement`, `--factors` and `--codes` (its `--help`");
        page.AppendLine("says what each does).");
        page.AppendLine();
        page.AppendLine("| option | property | default | what it does |");
        page.AppendLine("|---|---|---|---|");
        foreach (var s in SettingCatalog.Of<IlgpuVae.Evaluation.EvalOptions>().Concat(SettingCatalog.Of<IlgpuVae.Disentanglement.DisentanglementOptions>()))
            page.AppendLine($"| `{s.Option}` | `{s.Owner.Name}.{s.Name}` | `{SettingCatalog.Text(s.Default)}` | {s.Declaration.Help.Replace("|", "\\|")} |");
        return page.ToString();
    }

    [Theory]
    [InlineData("train")]
    [InlineData("eval")]
    public void TheDocsPageIsTheDeclarations(string command)
    {
        string page = command == "train" ? Page() : EvalPage(), path = PagePath(command);
        if (Environment.GetEnvironmentVariable("UPDATE_DOCS") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, page);
        }
        Assert.True(File.Exists(path), $"{path} is missing: run UPDATE_DOCS=1 dotnet test -c Release --filter OptionsTableTests");
        Assert.True(File.ReadAllText(path) == page, $"{path} differs from the settings' declarations: run UPDATE_DOCS=1 dotnet test -c Release --filter OptionsTableTests");
    }
}
