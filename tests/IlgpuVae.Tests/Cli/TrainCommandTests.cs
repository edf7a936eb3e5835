using System.Text.Json;
using IlgpuVae.Images;
using IlgpuVae.IO;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>`train` end to end: the run folder's files and keys are the ones other tools rely on (README: the run folder).</summary>
public sealed class TrainCommandTests(TrainedRunFixture run) : IClassFixture<TrainedRunFixture>
{
    static readonly string[] MetricKeys =
    [
        "epoch", "train_loss", "train_recon", "train_kl", "train_mmd", "test_loss", "test_recon", "test_kl",
        "test_mmd", "test_neg_elbo", "seconds", "images_per_second",
    ];

    [Fact]
    public void SucceedsAndPrintsOneLinePerEpoch()
    {
        Assert.True(run.Exit == 0, run.Error + run.Output);
        Assert.Contains("epoch 1/2", run.Output);
        Assert.Contains("epoch 2/2", run.Output);
    }

    [Fact]
    public void WritesMetricsWithTheContractKeys()
    {
        var lines = File.ReadAllLines(Path.Combine(run.Run, RunFolder.MetricsFile));
        Assert.Equal(2, lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            var row = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(lines[i])!;
            foreach (var key in MetricKeys)
                Assert.True(row.ContainsKey(key), $"metrics line {i + 1} lacks '{key}'");
            Assert.Equal(i + 1, row["epoch"].GetInt32());
            Assert.True(double.IsFinite(row["test_neg_elbo"].GetDouble()));
        }
    }

    [Fact]
    public void WritesAConfigThatReproducesTheRun()
    {
        var config = RunConfig.FromJson(File.ReadAllText(Path.Combine(run.Run, RunFolder.ConfigFile)), "config");
        Assert.Equal("sprites", config.Data);
        Assert.Equal("infovae", config.Model);
        Assert.Equal([24], config.Hidden);
        Assert.Equal(3, config.Latent);
        Assert.Equal(2, config.Epochs);
        Assert.Equal(28, config.ImageHeight);
    }

    [Fact]
    public void CheckpointHasPyTorchNamesAndShapes()
    {
        var tensors = SafeTensors.Read(Path.Combine(run.Run, RunFolder.ModelFile)).ToDictionary(t => t.Name);
        Assert.Equal(
            ["decoder.0.bias", "decoder.0.weight", "decoder.out.bias", "decoder.out.weight", "encoder.0.bias", "encoder.0.weight",
             "encoder.logvar.bias", "encoder.logvar.weight", "encoder.mu.bias", "encoder.mu.weight"],
            tensors.Keys.Order());
        Assert.Equal([24, 784], tensors["encoder.0.weight"].Shape);
        Assert.Equal([3, 24], tensors["encoder.mu.weight"].Shape);
        Assert.Equal([784, 24], tensors["decoder.out.weight"].Shape);
        Assert.True(File.Exists(Path.Combine(run.Run, RunFolder.StateFile)));
    }

    [Fact]
    public void WritesEveryPictureAtItsSize()
    {
        foreach (var name in new[] { RunPictures.Samples, RunPictures.Reconstructions, RunPictures.Interpolation,
                     RunPictures.LossCurve, RunPictures.LatentScatter })
        {
            var (w, h) = PngFile.Size(Path.Combine(run.Run, name));
            Assert.True(w > 28 && h > 28, $"{name} is {w}×{h}");
        }
        Assert.Equal(PngGrid.GridSize(64, 28, 28, 8, 2, 2), PngFile.Size(Path.Combine(run.Run, RunPictures.Samples)));
    }

    [Fact]
    public void RefusesAFolderThatHoldsARunAndLeavesItAlone()
    {
        string config = Path.Combine(run.Run, RunFolder.ConfigFile);
        var before = File.ReadAllBytes(config);
        var (exit, _, error) = CliRunner.Train(run.Run, "--epochs", "1");
        Assert.Equal(1, exit);
        Assert.Contains("already holds a run", error);
        Assert.Equal(before, File.ReadAllBytes(config));
    }

    [Fact]
    public void ResumeContinuesToTheTotalAndMatchesAnUninterruptedRun()
    {
        using var temp = new TempFolder();
        string resumed = temp.File("resumed"), straight = temp.File("straight");
        Assert.Equal(0, CliRunner.Train(resumed, "--epochs", "1").Exit);
        var (exit, output, error) = CliRunner.Run("train", "--resume", resumed, "--epochs", "2");
        Assert.True(exit == 0, error + output);
        Assert.Equal(0, CliRunner.Train(straight, "--epochs", "2").Exit);

        Assert.Equal(2, File.ReadAllLines(Path.Combine(resumed, RunFolder.MetricsFile)).Length);
        var a = SafeTensors.Read(Path.Combine(resumed, RunFolder.ModelFile));
        var b = SafeTensors.Read(Path.Combine(straight, RunFolder.ModelFile));
        Assert.Equal(b.Select(t => t.Name), a.Select(t => t.Name));
        for (int i = 0; i < a.Count; i++)
            Assert.True(a[i].Data.AsSpan().SequenceEqual(b[i].Data), $"{a[i].Name} differs after resume");
    }

    [Fact]
    public void EvalEveryAddsTheEvaluationToTheMetrics()
    {
        using var temp = new TempFolder();
        var (exit, output, error) = CliRunner.Train(temp.File("run"), "--epochs", "1", "--eval-every", "1", "--eval-iwae-k", "4", "--model", "vae");
        Assert.True(exit == 0, error + output);
        var row = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllLines(temp.File("run/metrics.jsonl")).Single())!;
        foreach (var key in new[] { "iwae_nll", "mi", "active_units", "mmd_aggregate" })
            Assert.True(row.ContainsKey(key), key);
        PngFile.Size(temp.File("run/" + EvalReport.KlChart));
    }

    [Fact]
    public void TrainsOnIdxFilesInAFolder()
    {
        using var temp = new TempFolder();
        var pixels = IdxFiles.Pattern(40 * 28 * 28);
        var labels = Enumerable.Range(0, 40).Select(i => (byte)(i % 10)).ToArray();
        foreach (var (name, data, dims) in new[]
                 {
                     ("train-images-idx3-ubyte.gz", pixels, new[] { 40, 28, 28 }), ("train-labels-idx1-ubyte", labels, new[] { 40 }),
                     ("t10k-images-idx3-ubyte", pixels[..(20 * 784)], new[] { 20, 28, 28 }), ("t10k-labels-idx1-ubyte.gz", labels[..20], new[] { 20 }),
                 })
        {
            var bytes = IdxFiles.Encode(data, dims);
            File.WriteAllBytes(temp.File(name), name.EndsWith(".gz") ? IdxFiles.Gzip(bytes) : bytes);
        }
        var (exit, output, error) = CliRunner.Run("train", "--data", temp.Path, "--epochs", "1", "--batch-size", "8",
            "--hidden", "8", "--latent", "2", "--model", "vae", "--device", "cpu", "--out", temp.File("run"));
        Assert.True(exit == 0, error + output);
        Assert.Single(File.ReadAllLines(temp.File("run/metrics.jsonl")));
    }
}
