using IlgpuVae.Runs;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// train --resume keeps the saved configuration: an option that contradicts it is refused, naming it with both
/// values, with nothing changed; the options that only say how far, where and how often to evaluate are applied.
/// </summary>
public sealed class ResumeOptionTests
{
    static Dictionary<string, byte[]> Snapshot(string folder) => Directory.GetFiles(folder).ToDictionary(f => f, File.ReadAllBytes);

    [Fact]
    public void OptionsThatContradictTheSavedConfigurationAreRefusedByName()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        Assert.Equal(0, CliRunner.Train(run, "--epochs", "1").Exit);
        var before = Snapshot(run);

        var (exit, _, error) = CliRunner.Run("train", "--resume", run, "--epochs", "3", "--latent", "5", "--lr", "0.5");
        Assert.Equal(1, exit);
        Assert.Equal($"error: --latent 5 and --lr 0.5 differ from the saved configuration of {run} (latent 3 and lr 0.001): a resumed run keeps it. " +
                     "Leave them out, or start a new run with --out; on resume only --epochs, --device, --replicas, --kernels, --eval-every and --eval-iwae-k may change.",
            error.Trim());
        Assert.Equal(before.Keys, Snapshot(run).Keys);
        Assert.All(before, f => Assert.Equal(f.Value, File.ReadAllBytes(f.Key)));

        (exit, _, error) = CliRunner.Run("train", "--resume", run, "--out", temp.File("elsewhere"));
        Assert.Equal(1, exit);
        Assert.Contains("--out cannot be combined with --resume", error);
    }

    [Fact]
    public void TheSavedValuesAgainAndTheOptionsThatMayChangeAreAccepted()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        Assert.Equal(0, CliRunner.Train(run, "--epochs", "1").Exit);
        var (exit, _, error) = CliRunner.Run("train", "--resume", run, "--epochs", "2", "--latent", "3", "--hidden", "24", "--data", "sprites",
            "--eval-every", "1", "--eval-iwae-k", "5", "--device", "cpu");
        Assert.True(exit == 0, error);
        var lines = File.ReadAllLines(Path.Combine(run, RunFolder.MetricsFile));
        Assert.Equal(2, lines.Length);
        Assert.DoesNotContain("\"mi\"", lines[0]);
        Assert.Contains("\"mi\"", lines[1]); // --eval-every applied to the resumed epoch
        Assert.Contains("\"eval_every\": 1", File.ReadAllText(Path.Combine(run, RunFolder.ConfigFile)));
    }
}
