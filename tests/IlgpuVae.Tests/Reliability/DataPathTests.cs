using IlgpuVae.Runs;
using IlgpuVae.Tests.Cli;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;
using SkiaSharp;

namespace IlgpuVae.Tests.Reliability;

/// <summary>
/// A run trained on `--data imgs` from one directory finds its data from any other (config.json's data_path), and
/// `eval` and `sample` take `--data` to point to it once it has moved.
/// </summary>
public sealed class DataPathTests
{
    [Fact]
    public void ARelativeDataFolderIsFoundFromAnyDirectoryAndDataPointsToItOnceMoved()
    {
        using var temp = new TempFolder();
        string home = temp.File("home"), run = temp.File("run");
        for (int i = 0; i < 24; i++)
            ImageFiles.Write(Path.Combine(home, "imgs", i % 2 == 0 ? "a" : "b", $"{i}.png"), 6, 6, (x, y) => new SKColor((byte)(x * 40), (byte)(y * 40), 0));
        var (exit, output) = RunFiles.RunChildIn(home, null,
            "train", "--data", "imgs", "--test-fraction", "0.25", "--batch-size", "6", "--hidden", "8", "--latent", "2", "--device", "cpu",
            "--epochs", "1", "--out", run);
        Assert.True(exit == 0, output);
        var config = RunConfig.FromJson(File.ReadAllText(Path.Combine(run, RunFolder.ConfigFile)), "config");
        Assert.Equal(("imgs", Path.Combine(home, "imgs")), (config.Data, config.DataPath));

        // This process's working directory is not home.
        Assert.Equal(0, CliRunner.Run("eval", run, "--iwae-k", "0", "--out", temp.File("eval")).Exit);
        Assert.Equal(0, CliRunner.Run("sample", run, "--out", temp.File("sample")).Exit);
        Assert.Equal(0, CliRunner.Run("train", "--resume", run, "--epochs", "2").Exit);

        string moved = temp.File("moved");
        Directory.Move(Path.Combine(home, "imgs"), moved);
        var (code, _, error) = CliRunner.Run("eval", run, "--iwae-k", "0", "--out", temp.File("eval"));
        Assert.Equal(1, code);
        Assert.Contains($"The run's data (--data imgs) is no longer at {Path.Combine(home, "imgs")}", error);
        Assert.Contains("--data", error);
        Assert.Equal(0, CliRunner.Run("eval", run, "--iwae-k", "0", "--data", moved, "--out", temp.File("eval")).Exit);
        Assert.Equal(0, CliRunner.Run("sample", run, "--data", moved, "--out", temp.File("sample")).Exit);
    }
}
