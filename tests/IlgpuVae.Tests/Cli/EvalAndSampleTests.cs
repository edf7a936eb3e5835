using System.Text.Json;
using IlgpuVae.Images;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>`eval` and `sample` from the checkpoint a `train` left behind.</summary>
public sealed class EvalAndSampleTests(TrainedRunFixture run) : IClassFixture<TrainedRunFixture>
{
    [Fact]
    public void EvalWritesEvalJsonWithTheContractKeysAndPrintsATable()
    {
        Assert.Equal(0, run.Exit);
        var (exit, output, error) = CliRunner.Run("eval", run.Run, "--device", "cpu", "--iwae-k", "20");
        Assert.True(exit == 0, error + output);
        Assert.Contains("IWAE NLL, K = 20", output);
        Assert.Contains("active units", output);
        var values = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(Path.Combine(run.Run, RunFolder.EvalFile)))!;
        foreach (var key in new[] { "test_neg_elbo", "iwae_nll", "bits_per_dim", "mi", "mmd_aggregate", "kl" })
            Assert.True(double.IsFinite(values[key].GetDouble()), key);
        Assert.Equal(20, values["iwae_k"].GetInt32());
        Assert.InRange(values["active_units"].GetInt32(), 0, 3);
        Assert.InRange(values["mi"].GetDouble(), -0.05, Math.Log(48));
        Assert.True(values["iwae_nll"].GetDouble() <= values["test_neg_elbo"].GetDouble() + 1);
        PngFile.Size(Path.Combine(run.Run, EvalReport.KlChart));
        // The −ELBO of the last epoch and of eval are the same quantity on the same images (eval averages more draws).
        var last = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadLines(Path.Combine(run.Run, RunFolder.MetricsFile)).Last())!;
        double trainTime = last["test_neg_elbo"].GetDouble(), evalTime = values["test_neg_elbo"].GetDouble();
        Assert.True(Math.Abs(trainTime - evalTime) < 0.05 * trainTime, $"{trainTime} vs {evalTime}");
    }

    [Fact]
    public void EvalTakesACheckpointFileWithItsConfig()
    {
        using var temp = new TempFolder();
        var (exit, output, error) = CliRunner.Run("eval", Path.Combine(run.Run, RunFolder.ModelFile),
            "--config", Path.Combine(run.Run, RunFolder.ConfigFile), "--device", "cpu", "--limit", "16", "--iwae-k", "5", "--out", temp.File("eval"));
        Assert.True(exit == 0, error + output);
        // --out names a folder, as for train and sample: both files go into it.
        Assert.True(File.Exists(Path.Combine(temp.File("eval"), RunFolder.EvalFile)));
        Assert.True(File.Exists(Path.Combine(temp.File("eval"), "kl_per_dim.png")));
    }

    [Fact]
    public void SampleWritesFourGridsAtTheirSizes()
    {
        using var temp = new TempFolder();
        var (exit, output, error) = CliRunner.Run("sample", run.Run, "--out", temp.Path, "--count", "16", "--device", "cpu");
        Assert.True(exit == 0, error + output);
        Assert.Equal(PngGrid.GridSize(16, 28, 28, 8, 2, 2), PngFile.Size(temp.File(RunPictures.Samples)));
        // One row per latent dimension (3), eleven steps each.
        Assert.Equal(PngGrid.GridSize(3 * 11, 28, 28, 11, 2, 2), PngFile.Size(temp.File(RunPictures.Traversals)));
        PngFile.Size(temp.File(RunPictures.Reconstructions));
        PngFile.Size(temp.File(RunPictures.Interpolation));
    }
}
