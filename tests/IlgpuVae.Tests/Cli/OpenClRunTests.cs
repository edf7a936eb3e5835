using System.Text.Json;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// Whole runs on the OpenCL device — the GPU kernels on a real OpenCL runtime — against the CPU accelerator's:
/// `train` from one seed gives the same per-epoch metrics, `eval` of one checkpoint the same estimates, and `sample`,
/// `bench` and `golden` run there.
/// Tolerance, relative, per number: 1e-5 (plus 1e-7 absolute for the MMD's small values). The draws are the same on
/// every device (a counter-based generator), and so are the data order and the arithmetic's formulas; what differs is
/// the order of float32 sums — the CPU's vector products against the GPU's shared-memory tiles, about 1e-7 relative per
/// product — which Adam carries from step to step. Measured on PoCL: 1e-8 after 48 steps of the default model.
/// The commands on the OpenCL device run as processes of their own, as a user's would, so that PoCL's cache of compiled
/// kernels applies (<see cref="CliRunner.RunProcess"/>); each model's commands share one test.
/// </summary>
public sealed class OpenClRunTests : IDisposable
{
    const double Relative = 1e-5, Absolute = 1e-7;

    static readonly string[] MetricKeys = ["train_loss", "train_recon", "train_kl", "train_mmd", "test_loss", "test_recon", "test_kl", "test_mmd", "test_neg_elbo", "kl_weight"];
    static readonly string[] EvalKeys = ["test_neg_elbo", "iwae_nll", "bits_per_dim", "mi", "mmd_aggregate", "kl"];

    readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>Options per model; the autoregressive ones on 8×8 grey or 6×6 colour images, since they draw their pictures value by value.</summary>
    string[] Options(string model) => model switch
    {
        "infovae mlp" => [],
        "vae conv" => ["--model", "vae", "--arch", "conv", "--channels", "4,8", "--hidden", "16"],
        "infovae pixelcnn decoder, rgb" => ["--decoder", "pixelcnn", "--pixelcnn-channels", "6", "--pixelcnn-layers", "2", "--pixelcnn-kernel", "3",
            "--pixelcnn-first-kernel", "5", "--hidden", "16", "--latent", "4", "--batch-size", "16", "--data", ColourImages(), "--image-channels", "3", "--test-fraction", "0.25"],
        _ => ["--model", "beta-vae", "--decoder", "made", "--made-hidden", "32", "--posterior", "iaf", "--flow-steps", "2", "--flow-hidden", "8",
              "--context-dim", "4", "--binarize", "dynamic", "--data", SmallImages(), "--image-size", "8", "--test-fraction", "0.25"],
    };

    string SmallImages()
    {
        string folder = temp.File("images");
        for (int i = 0; i < 64 && !File.Exists(Path.Combine(folder, "63.png")); i++)
            ImageFiles.Write(Path.Combine(folder, $"{i}.png"), 8, 8, (x, y) => (x + y + i) % 3 == 0 ? SkiaSharp.SKColors.White : SkiaSharp.SKColors.Black);
        return folder;
    }

    string ColourImages()
    {
        string folder = temp.File("colour");
        for (int i = 0; i < 48 && !File.Exists(Path.Combine(folder, "47.png")); i++)
            ImageFiles.Write(Path.Combine(folder, $"{i}.png"), 6, 6, (x, y) => new SkiaSharp.SKColor((byte)(x * 40 + i), (byte)((x + y + i) % 2 * 255), (byte)(y * 40)));
        return folder;
    }

    public static TheoryData<string, string> Models()
    {
        var data = new TheoryData<string, string>();
        foreach (var m in new[] { "infovae mlp", "vae conv", "beta-vae made decoder, iaf posterior", "infovae pixelcnn decoder, rgb" }) data.Add(m, TestDevices.OpenCl);
        return data;
    }

    string Train(string model, string device)
    {
        string run = temp.File($"run-{device}");
        var (exit, output, error) = CliRunner.RunOn(device, CliRunner.TrainArguments(run, [.. Options(model), "--epochs", "2", "--seed", "7", "--device", device]));
        Assert.True(exit == 0, $"{device}: {error}{output}");
        return run;
    }

    Dictionary<string, JsonElement> Eval(string run, string device)
    {
        string folder = temp.File($"eval-{device}");
        var (exit, output, error) = CliRunner.RunOn(device, "eval", run, "--device", device, "--iwae-k", "8", "--mi-limit", "32", "--out", folder);
        Assert.True(exit == 0, $"{device}: {error}{output}");
        return Json(File.ReadAllText(Path.Combine(folder, RunFolder.EvalFile)));
    }


    static Dictionary<string, JsonElement> Json(string text) => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(text)!;

    static void AssertAgrees(double cpu, double other, string what) =>
        Assert.True(Math.Abs(cpu - other) <= Relative * Math.Abs(cpu) + Absolute, $"{what}: cpu {cpu:R}, opencl {other:R}");

    [DeviceTheory]
    [MemberData(nameof(Models))]
    public void TrainEvalAndSampleThereAgreeWithTheCpu(string model, string device)
    {
        string cpuRun = Train(model, TestDevices.Cpu), run = Train(model, device);
        var (cpu, other) = (File.ReadAllLines(Path.Combine(cpuRun, RunFolder.MetricsFile)), File.ReadAllLines(Path.Combine(run, RunFolder.MetricsFile)));
        Assert.Equal(cpu.Length, other.Length);
        for (int e = 0; e < cpu.Length; e++)
            foreach (var key in MetricKeys)
                AssertAgrees(Json(cpu[e])[key].GetDouble(), Json(other[e])[key].GetDouble(), $"{model}, train, epoch {e + 1}, {key}");

        var (cpuEval, otherEval) = (Eval(cpuRun, TestDevices.Cpu), Eval(cpuRun, device));
        foreach (var key in EvalKeys)
            AssertAgrees(cpuEval[key].GetDouble(), otherEval[key].GetDouble(), $"{model}, eval, {key}");
        Assert.Equal(cpuEval["active_units"].GetInt32(), otherEval["active_units"].GetInt32());

        var (exit, output, error) = CliRunner.RunOn(device, "sample", run, "--device", device, "--count", "8", "--out", temp.File("pictures"));
        Assert.True(exit == 0, error + output);
        PngFile.Size(Path.Combine(temp.File("pictures"), "samples.png"));
    }

    public static TheoryData<string> OpenClDevice() => [TestDevices.OpenCl];

    [DeviceTheory]
    [MemberData(nameof(OpenClDevice))]
    public void BenchReportsThere(string device)
    {
        using var temp = new TempFolder();
        var (exit, output, error) = CliRunner.RunProcess("bench", "--device", device, "--batch-sizes", "32", "--steps", "2", "--warmup", "1",
            "--hidden", "32", "--latent", "4", "--out", temp.Path);
        Assert.True(exit == 0, error + output);
        var row = JsonDocument.Parse(File.ReadAllText(temp.File("bench.json"))).RootElement[0];
        Assert.StartsWith("opencl:", row.GetProperty("device").GetString());
        Assert.True(row.GetProperty("images_per_second").GetDouble() > 0);
    }

    [DeviceTheory]
    [MemberData(nameof(OpenClDevice))]
    public void GoldenPassesTheRepositorysFixturesThere(string device)
    {
        var (exit, output, error) = CliRunner.RunProcess("golden", Golden.GoldenFolders.RepositoryFolder, "--device", device);
        Assert.True(exit == 0, error + output);
        Assert.Contains("GPU kernels", output);
        Assert.Contains(" 0 failed", output);
    }
}
