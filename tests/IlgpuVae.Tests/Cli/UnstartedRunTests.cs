using IlgpuVae.Runs;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// A run killed before its first checkpoint leaves only config.json. Every command that meets such a folder
/// sends the user one way — `train --resume` restarts it from the start with its saved settings — and that
/// restart ends exactly where a fresh run with those settings does.
/// </summary>
public sealed class UnstartedRunTests
{
    [Fact]
    public void AFolderWithOnlyItsConfigIsRestartedByResume()
    {
        using var temp = new TempFolder();
        string straight = temp.File("straight"), killed = temp.File("killed");
        Assert.Equal(0, CliRunner.Train(straight, "--epochs", "1").Exit);
        Directory.CreateDirectory(killed);
        File.Copy(Path.Combine(straight, RunFolder.ConfigFile), Path.Combine(killed, RunFolder.ConfigFile));

        var (exit, _, error) = CliRunner.Train(killed, "--epochs", "1");
        Assert.Equal(1, exit);
        Assert.Contains("stopped before its first checkpoint", error);
        Assert.Contains($"--resume {killed}", error);
        Assert.Equal([Path.Combine(killed, RunFolder.ConfigFile)], Directory.GetFiles(killed));

        var (evalExit, _, evalError) = CliRunner.Run("eval", killed, "--device", "cpu");
        Assert.Equal(1, evalExit);
        Assert.Contains($"train --resume {killed}", evalError);

        var (resumeExit, output, resumeError) = CliRunner.Run("train", "--resume", killed);
        Assert.True(resumeExit == 0, resumeError);
        Assert.Contains("from the start", output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, RunFolder.ModelFile)), File.ReadAllBytes(Path.Combine(killed, RunFolder.ModelFile)));
        Assert.Single(File.ReadAllLines(Path.Combine(killed, RunFolder.MetricsFile)));
    }

    [Fact]
    public void ResumeOfAFolderWithoutAConfigSaysToStartANewRun()
    {
        using var temp = new TempFolder();
        var (exit, _, error) = CliRunner.Run("train", "--resume", temp.Path);
        Assert.Equal(1, exit);
        Assert.Contains("is not a run folder", error);
        Assert.Contains($"--out {temp.Path}", error);
    }
}
