using System.Text.Json;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// A β-TC-VAE run on each accelerator: config.json records N (the training set's 192 images) and the preset's weights,
/// metrics.jsonl holds the three terms for both sets with train_loss = recon + MI + β·TC + DWKL, and eval writes the KL's
/// decomposition (its index-code MI the same estimate as mi). Another model's metrics carry none of the three keys.
/// </summary>
public sealed class BetaTcVaeRunTests : IDisposable
{
    const double Beta = 6;
    readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    public static TheoryData<string> Devices => TestDevices.All;

    static readonly string[] Terms = ["index_code_mi", "total_correlation", "dimension_wise_kl"];

    static void Succeeds((int Exit, string Output, string Error) r, string what) => Assert.True(r.Exit == 0, $"{what}: {r.Error}{r.Output}");

    static List<JsonElement> Metrics(string run) =>
        File.ReadAllLines(Path.Combine(run, RunFolder.MetricsFile)).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void TrainRecordsTheDecompositionAndEvalReportsIt(string device)
    {
        string run = temp.File($"tc-{device}");
        Succeeds(CliRunner.RunOn(device, CliRunner.TrainArguments(run, "--model", "beta-tcvae", "--beta", "6", "--epochs", "2", "--seed", "3", "--device", device)), "train");
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, RunFolder.ConfigFile)));
        Assert.Equal(192, config.RootElement.GetProperty("dataset_size").GetInt32());
        Assert.Equal(1, config.RootElement.GetProperty("alpha").GetDouble());
        Assert.Equal(0, config.RootElement.GetProperty("lambda").GetDouble());

        var metrics = Metrics(run);
        Assert.Equal(2, metrics.Count);
        foreach (var line in metrics)
            foreach (var set in new[] { "train", "test" })
            {
                double Get(string key) => line.GetProperty($"{set}_{key}").GetDouble();
                Assert.All(Terms, t => Assert.True(double.IsFinite(Get(t))));
                double loss = Get("recon") + Get("index_code_mi") + Beta * Get("total_correlation") + Get("dimension_wise_kl");
                Tolerance.AssertNear(Get("loss"), loss, 1e-9, 1e-9, $"{set}_loss");
            }

        Succeeds(CliRunner.RunOn(device, "eval", run, "--device", device, "--iwae-k", "2"), "eval");
        using var eval = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "eval.json")));
        var e = eval.RootElement;
        Assert.All(Terms, t => Assert.True(double.IsFinite(e.GetProperty(t).GetDouble()), t));
        // One code per image and the evaluated set as the mixture: the same estimator as mi, from another kernel.
        Tolerance.AssertNear(e.GetProperty("index_code_mi").GetDouble(), e.GetProperty("mi").GetDouble(), 1e-6, 1e-9, "index_code_mi against mi");
    }

    [Fact]
    public void OtherModelsWriteNoneOfTheKeysToMetricsButEvalReportsThem()
    {
        string run = temp.File("vae");
        Succeeds(CliRunner.Train(run, "--model", "vae", "--epochs", "1"), "train");
        var line = Metrics(run).Single();
        Assert.All(Terms, t => Assert.False(line.TryGetProperty($"train_{t}", out _), t));
        Succeeds(CliRunner.Run("eval", run, "--device", "cpu", "--iwae-k", "0"), "eval");
        using var eval = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "eval.json")));
        Assert.All(Terms, t => Assert.True(double.IsFinite(eval.RootElement.GetProperty(t).GetDouble()), t));
    }
}
