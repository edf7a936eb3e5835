using System.Text.Json;
using IlgpuVae.IO;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// Runs with --kl-warmup and --free-bits on each accelerator: config.json records both, metrics.jsonl's kl_weight
/// follows the schedule epoch by epoch, train_kl stays the unclamped KL while train_loss holds the clamped term, a
/// resumed run (at an epoch's end, and on the CPU also mid-epoch) ends bit-identical to a straight one, resume refuses
/// a changed schedule by name, and eval (which ignores the schedule: its loss and −ELBO are the unclamped ones),
/// sample and export work on such a run. The commands on the OpenCL device run as processes of their own, as in
/// <see cref="OpenClRunTests"/>.
/// </summary>
public sealed class KlScheduleRunTests : IDisposable
{
    const double WarmupEpochs = 2.5, FreeBits = 0.3;
    const int Latent = 3;

    // CliRunner.TinyTrain: 192 training images in batches of 32, so 6 steps an epoch; the vae preset, so 1 − α = 1 and no MMD weight.
    static readonly string[] Schedule =
        ["--model", "vae", "--kl-warmup", "2.5", "--free-bits", "0.3", "--seed", "7", "--latent", "3"];

    readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    public static TheoryData<string> Devices => TestDevices.All;

    static void Succeeds((int Exit, string Output, string Error) r, string what) => Assert.True(r.Exit == 0, $"{what}: {r.Error}{r.Output}");

    static List<JsonElement> Metrics(string run) =>
        File.ReadAllLines(Path.Combine(run, RunFolder.MetricsFile)).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    static void AssertSameFiles(string a, string b, string file) =>
        Assert.True(File.ReadAllBytes(Path.Combine(a, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, file))),
            $"{file} differs between the resumed run and the straight one");

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void TrainResumeEvalSampleAndExportThere(string device)
    {
        string straight = temp.File($"straight-{device}"), resumed = temp.File($"resumed-{device}");
        Succeeds(CliRunner.RunOn(device, CliRunner.TrainArguments(straight, [.. Schedule, "--epochs", "4", "--device", device])), "straight run");
        Succeeds(CliRunner.RunOn(device, CliRunner.TrainArguments(resumed, [.. Schedule, "--epochs", "2", "--device", device])), "first two epochs");

        string config = File.ReadAllText(Path.Combine(resumed, RunFolder.ConfigFile));
        Assert.Contains("\"kl_warmup_epochs\": 2.5", config);
        Assert.Contains("\"free_bits\": 0.3", config);

        // A changed schedule is refused by name; the saved one again, or none given, continues.
        var refused = CliRunner.RunOn(device, "train", "--resume", resumed, "--epochs", "4", "--free-bits", "0.1", "--kl-warmup", "1");
        Assert.Equal(1, refused.Exit);
        Assert.Contains("--kl-warmup 1 and --free-bits 0.1 differ from the saved configuration", refused.Error);
        Assert.Contains("(kl-warmup 2.5 and free-bits 0.3)", refused.Error);
        Succeeds(CliRunner.RunOn(device, "train", "--resume", resumed, "--epochs", "4", "--kl-warmup", "2.5", "--device", device), "resume");

        AssertSameFiles(straight, resumed, RunFolder.ModelFile);
        AssertSameFiles(straight, resumed, RunFolder.StateFile);
        var (a, b) = (Metrics(straight), Metrics(resumed));
        Assert.Equal(4, a.Count);
        Assert.Equal(4, b.Count);
        for (int e = 0; e < 4; e++)
        {
            // The weight of the epoch's last step, t = 6(e + 1): min(1, t / (2.5 · 6)).
            double want = Math.Min(1.0, (e + 1) / WarmupEpochs);
            Assert.Equal(want, a[e].GetProperty("kl_weight").GetDouble(), 12);
            foreach (var key in new[] { "kl_weight", "train_loss", "train_kl", "test_loss", "test_neg_elbo" })
                Assert.Equal(a[e].GetProperty(key).GetRawText(), b[e].GetProperty(key).GetRawText());
            double recon = a[e].GetProperty("test_recon").GetDouble(), kl = a[e].GetProperty("test_kl").GetDouble();
            Tolerance.AssertNear(a[e].GetProperty("test_neg_elbo").GetDouble(), recon + kl, 1e-6, 1e-6, $"epoch {e + 1}: test_neg_elbo is recon + the unclamped KL");
        }
        // Epoch 4 is all at full weight: every batch's KL term is at least λ per dimension, whatever train_kl (unclamped) is.
        var last = a[3];
        double klTerm = last.GetProperty("train_loss").GetDouble() - last.GetProperty("train_recon").GetDouble();
        Assert.True(klTerm >= Latent * FreeBits - 1e-5, $"the loss's KL term {klTerm} is below {Latent} × {FreeBits}");
        Assert.True(Math.Abs(klTerm - last.GetProperty("train_kl").GetDouble()) > 1e-4,
            $"train_kl {last.GetProperty("train_kl").GetDouble()} should be the unclamped KL, not the loss's clamped term {klTerm}");

        string evalFolder = temp.File($"eval-{device}");
        Succeeds(CliRunner.RunOn(device, "eval", straight, "--device", device, "--iwae-k", "4", "--mi-limit", "16", "--out", evalFolder), "eval");
        var eval = JsonDocument.Parse(File.ReadAllText(Path.Combine(evalFolder, RunFolder.EvalFile))).RootElement;
        double evalRecon = eval.GetProperty("test_recon").GetDouble(), evalKl = eval.GetProperty("kl").GetDouble();
        Tolerance.AssertNear(eval.GetProperty("test_neg_elbo").GetDouble(), evalRecon + evalKl, 1e-6, 1e-6, "eval: test_neg_elbo");
        // The vae's objective without the schedule is the −ELBO itself: no clamp, full weight.
        Tolerance.AssertNear(eval.GetProperty("test_loss").GetDouble(), evalRecon + evalKl, 1e-6, 1e-6, "eval: test_loss ignores free bits");

        Succeeds(CliRunner.RunOn(device, "sample", straight, "--device", device, "--count", "4", "--out", temp.File($"pictures-{device}")), "sample");
        PngFile.Size(Path.Combine(temp.File($"pictures-{device}"), "samples.png"));
        string onnx = temp.File($"onnx-{device}");
        Succeeds(CliRunner.Run("export", straight, "--out", onnx), "export");
        Assert.True(File.Exists(Path.Combine(onnx, "encoder.onnx")) && File.Exists(Path.Combine(onnx, "decoder.onnx")));
    }

    /// <summary>A stop in the middle of a warm-up epoch (Ctrl+C) and --resume: the ramp goes on from the saved step, bit for bit.</summary>
    [Fact]
    public void AStopMidEpochDuringTheWarmUpResumesBitIdentically()
    {
        var config = new RunConfig
        {
            TrainLimit = 160, TestLimit = 32, BatchSize = 32, Hidden = [16], Latent = Latent, Device = "cpu", Epochs = 3,
            Model = "beta-vae", KlWarmupEpochs = 1.6, FreeBits = 0.2,
        };
        string interrupted = temp.File("interrupted"), straight = temp.File("straight");
        using var stop = new CancellationTokenSource();
        var observer = new InterruptTests.StopAfter(epoch: 2, step: 1, stop);
        TrainingSession.Run(config, interrupted, null, null, observer, stop.Token);
        Assert.Contains(observer.Messages, m => m.Contains("Stopped in epoch 2 after step 2 of 5; saved"));
        TrainingSession.Run(config, null, interrupted, null, new InterruptTests.StopAfter(0, 0, new CancellationTokenSource()), CancellationToken.None);
        TrainingSession.Run(config, straight, null, null, new InterruptTests.StopAfter(0, 0, new CancellationTokenSource()), CancellationToken.None);

        AssertSameFiles(straight, interrupted, RunFolder.ModelFile);
        AssertSameFiles(straight, interrupted, RunFolder.StateFile);
        var (a, b) = (Metrics(straight), Metrics(interrupted));
        Assert.Equal(3, b.Count);
        double klWeight = config.Objective().KlWeight;
        for (int e = 0; e < 3; e++)
        {
            Assert.Equal(klWeight * Math.Min(1.0, (e + 1) / 1.6), a[e].GetProperty("kl_weight").GetDouble(), 12);
            foreach (var key in new[] { "kl_weight", "train_loss", "train_kl", "test_loss" })
                Assert.Equal(a[e].GetProperty(key).GetRawText(), b[e].GetProperty(key).GetRawText());
        }
        Assert.Equal("15", SafeTensors.ReadMetadata(Path.Combine(interrupted, RunFolder.StateFile))["step"]);
    }

    /// <summary>Without the options, kl_weight is the objective's 1 − α every epoch.</summary>
    [Fact]
    public void WithoutAWarmUpTheWeightIsOneMinusAlpha()
    {
        string run = temp.File("plain");
        Succeeds(CliRunner.Train(run, "--model", "beta-vae", "--beta", "4", "--epochs", "2"), "train");
        string config = File.ReadAllText(Path.Combine(run, RunFolder.ConfigFile));
        Assert.Contains("\"kl_warmup_epochs\": 0", config);
        Assert.Contains("\"free_bits\": 0", config);
        Assert.All(Metrics(run), m => Assert.Equal(4.0, m.GetProperty("kl_weight").GetDouble(), 12));
    }
}
