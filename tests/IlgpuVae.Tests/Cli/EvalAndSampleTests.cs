using System.Text.Json;
using IlgpuVae.Images;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Data;

namespace IlgpuVae.Tests.Cli;

/// <summary>`eval` and `sample` from the checkpoint a `train` left behind.</summary>
public sealed class EvalAndSampleTests(TrainedRunFixture run) : IClassFixture<TrainedRunFixture>
{
    [Fact]
    public void EvalWritesEvalJsonAndPrintsATable()
    {
        Assert.Equal(0, run.Exit);
        var (exit, output, error) = CliRunner.Run("eval", run.Run, "--device", "cpu");
        Assert.True(exit == 0, error + output);
        Assert.Contains("test_neg_elbo", output);
        var values = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(Path.Combine(run.Run, RunFolder.EvalFile)))!;
        foreach (var key in new[] { "test_neg_elbo", "bits_per_dim", "kl" })
            Assert.True(double.IsFinite(values[key].GetDouble()), key);
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
            "--config", Path.Combine(run.Run, RunFolder.ConfigFile), "--device", "cpu", "--limit", "16", "--out", temp.File("eval.json"));
        Assert.True(exit == 0, error + output);
        Assert.True(File.Exists(temp.File("eval.json")));
    }

    [Fact]
    public void SampleWritesFourGridsAtTheirSizes()
    {
        using var temp = new TempFolder();
        var (exit, output, error) = CliRunner.Run("sample", run.Run, "--out", temp.Path, "--count", "16", "--device", "cpu");
        Assert.True(exit == 0, error + output);
        Assert.Equal(PngGrid.GridSize(16, 28, 28, 8, 2, 2), Png.Size(temp.File(RunPictures.Samples)));
        // One row per latent dimension (3), eleven steps each.
        Assert.Equal(PngGrid.GridSize(3 * 11, 28, 28, 11, 2, 2), Png.Size(temp.File(RunPictures.Traversals)));
        Png.Size(temp.File(RunPictures.Reconstructions));
        Png.Size(temp.File(RunPictures.Interpolation));
    }
}
