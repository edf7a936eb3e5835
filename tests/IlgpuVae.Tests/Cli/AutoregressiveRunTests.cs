using System.Text.Json;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;
using Microsoft.ML.OnnxRuntime;

namespace IlgpuVae.Tests.Cli;

/// <summary>A MADE decoder with an IAF posterior through the command line: train (with per-epoch evaluation), eval, sample and export.</summary>
public sealed class AutoregressiveRunTests
{
    [Fact]
    public void AMadeDecoderWithAnIafPosteriorTrainsEvaluatesSamplesAndExports()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        var (exit, output, error) = CliRunner.Run("train", "--data", "sprites", "--train-limit", "96", "--test-limit", "32", "--epochs", "2",
            "--batch-size", "32", "--hidden", "16", "--latent", "3", "--decoder", "made", "--made-hidden", "12", "--posterior", "iaf",
            "--flow-steps", "2", "--flow-hidden", "8", "--context-dim", "4", "--eval-every", "2", "--eval-iwae-k", "4", "--device", "cpu", "--out", run);
        Assert.True(exit == 0, error + output);
        Assert.Contains("made[12]", output);
        var config = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(Path.Combine(run, RunFolder.ConfigFile)))!;
        Assert.Equal("made", config["decoder"].GetString());
        Assert.Equal("iaf", config["posterior"].GetString());
        Assert.StartsWith("single-sample estimate", config["kl_term"].GetString());
        var last = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadLines(Path.Combine(run, RunFolder.MetricsFile)).Last())!;
        Assert.True(double.IsFinite(last["iwae_nll"].GetDouble()));

        (exit, output, error) = CliRunner.Run("eval", run, "--device", "cpu", "--iwae-k", "8", "--mi-limit", "16");
        Assert.True(exit == 0, error + output);
        Assert.Contains("on the first 16 images", output);
        var values = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(Path.Combine(run, RunFolder.EvalFile)))!;
        Assert.Equal(16, values["mi_images"].GetInt32());
        Assert.InRange(values["mi"].GetDouble(), -0.5, Math.Log(16) + 1e-6);
        Assert.True(values["iwae_nll"].GetDouble() <= values["test_neg_elbo"].GetDouble() + 1);

        (exit, output, error) = CliRunner.Run("sample", run, "--out", temp.File("pictures"), "--count", "8", "--device", "cpu");
        Assert.True(exit == 0, error + output);
        Assert.True(File.Exists(Path.Combine(temp.File("pictures"), RunPictures.Samples)));

        (exit, output, error) = CliRunner.Run("export", run, "--format", "onnx", "--out", temp.File("onnx"));
        Assert.True(exit == 0, error + output);
        Assert.Contains("flow.onnx", output);
        using var encoder = new InferenceSession(Path.Combine(temp.File("onnx"), "encoder.onnx"));
        using var decoder = new InferenceSession(Path.Combine(temp.File("onnx"), "decoder.onnx"));
        using var flow = new InferenceSession(Path.Combine(temp.File("onnx"), "flow.onnx"));
        Assert.Equal(["mu", "logvar", "context"], encoder.OutputMetadata.Keys);
        Assert.Equal(["z", "x"], decoder.InputMetadata.Keys);
        Assert.Equal(["mu", "logvar", "context", "eps"], flow.InputMetadata.Keys);
        Assert.Equal(["z", "log_q"], flow.OutputMetadata.Keys);
        Assert.Equal([-1, 4], flow.InputMetadata["context"].Dimensions);
    }
}

/// <summary>
/// A PixelCNN decoder through the command line on every device, on 6×6 colour images (drawing pictures takes a decoder pass per value):
/// train (with per-epoch evaluation), resume (the same weights as an uninterrupted run), eval, sample and export.
/// </summary>
public sealed class PixelCnnRunTests
{
    static string ColourImages(TempFolder temp)
    {
        string folder = temp.File("images");
        for (int i = 0; i < 40; i++)
            ImageFiles.Write(Path.Combine(folder, $"{i}.png"), 6, 6, (x, y) => new SkiaSharp.SKColor((byte)(x * 40 + i), (byte)((x + y + i) % 2 * 255), (byte)(y * 40)));
        return folder;
    }

    public static TheoryData<string> Devices => TestDevices.All;


    static string[] Train(string images, string run, int epochs, string device) =>
        ["train", "--data", images, "--image-channels", "3", "--test-fraction", "0.25", "--epochs", epochs.ToString(), "--batch-size", "10",
         "--hidden", "12", "--latent", "3", "--model", "vae", "--decoder", "pixelcnn", "--pixelcnn-channels", "6", "--pixelcnn-layers", "1",
         "--pixelcnn-kernel", "3", "--pixelcnn-first-kernel", "3", "--eval-every", "1", "--eval-iwae-k", "4", "--device", device, "--out", run];

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void APixelCnnDecoderTrainsResumesEvaluatesSamplesAndExports(string device)
    {
        using var temp = new TempFolder();
        string images = ColourImages(temp), run = temp.File("run"), straight = temp.File("straight");
        var (exit, output, error) = CliRunner.RunOn(device, Train(images, run, epochs: 1, device));
        Assert.True(exit == 0, error + output);
        Assert.Contains("pixelcnn[6: 3×3 A, 1 × 3×3 B]", output);
        var config = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(Path.Combine(run, RunFolder.ConfigFile)))!;
        Assert.Equal("pixelcnn", config["decoder"].GetString());
        Assert.Equal(6, config["pixelcnn_channels"].GetInt32());
        Assert.Equal(1, config["pixelcnn_layers"].GetInt32());
        Assert.Equal(3, config["pixelcnn_kernel"].GetInt32());
        Assert.Equal(3, config["pixelcnn_first_kernel"].GetInt32());

        (exit, output, error) = CliRunner.RunOn(device, "train", "--resume", run, "--epochs", "2");
        Assert.True(exit == 0, error + output);
        (exit, output, error) = CliRunner.RunOn(device, Train(images, straight, epochs: 2, device));
        Assert.True(exit == 0, error + output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, RunFolder.ModelFile)), File.ReadAllBytes(Path.Combine(run, RunFolder.ModelFile)));
        var last = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadLines(Path.Combine(run, RunFolder.MetricsFile)).Last())!;
        Assert.Equal(2, last["epoch"].GetInt32());
        Assert.True(double.IsFinite(last["iwae_nll"].GetDouble()));

        (exit, output, error) = CliRunner.RunOn(device, "eval", run, "--device", device, "--iwae-k", "8");
        Assert.True(exit == 0, error + output);
        var values = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(File.ReadAllText(Path.Combine(run, RunFolder.EvalFile)))!;
        Assert.True(values["iwae_nll"].GetDouble() <= values["test_neg_elbo"].GetDouble() + 1);

        (exit, output, error) = CliRunner.RunOn(device, "sample", run, "--out", temp.File("pictures"), "--count", "4", "--device", device);
        Assert.True(exit == 0, error + output);
        PngFile.Size(Path.Combine(temp.File("pictures"), RunPictures.Samples));

        (exit, output, error) = CliRunner.RunOn(device, "export", run, "--format", "onnx", "--out", temp.File("onnx"));
        Assert.True(exit == 0, error + output);
        using var decoder = new InferenceSession(Path.Combine(temp.File("onnx"), "decoder.onnx"));
        Assert.Equal(["z", "x"], decoder.InputMetadata.Keys);
        Assert.Equal([-1, 108], decoder.OutputMetadata["logits"].Dimensions);
    }
}

/// <summary>`compare`: several runs' metrics per epoch on one chart per metric.</summary>
public sealed class CompareCommandTests
{
    static string Run(TempFolder temp, string name, params string[] lines)
    {
        string folder = temp.File(name);
        Directory.CreateDirectory(folder);
        File.WriteAllLines(Path.Combine(folder, RunFolder.MetricsFile), lines);
        return folder;
    }

    [Fact]
    public void ItDrawsOneChartPerMetricWithALinePerRun()
    {
        using var temp = new TempFolder();
        string a = Run(temp, "vae", "{\"epoch\":1,\"test_neg_elbo\":300.5,\"mi\":1.5}", "{\"epoch\":2,\"test_neg_elbo\":290.1,\"mi\":1.2}");
        string b = Run(temp, "infovae", "{\"epoch\":1,\"test_neg_elbo\":301.0}", "{\"epoch\":2,\"test_neg_elbo\":289.0,\"mi\":2.5}");
        var (exit, output, error) = CliRunner.Run("compare", a, b, "--metric", "test_neg_elbo,mi", "--out", temp.File("charts"));
        Assert.True(exit == 0, error + output);
        foreach (var metric in new[] { "test_neg_elbo", "mi" })
        {
            string chart = Path.Combine(temp.File("charts"), RunComparison.ChartName(metric));
            Assert.Contains(chart, output);
            PngFile.Size(chart);
        }
    }

    [Fact]
    public void AMetricNoRunRecordedIsRefusedWithTheKeysThereAre()
    {
        using var temp = new TempFolder();
        string a = Run(temp, "a", "{\"epoch\":1,\"test_neg_elbo\":300.5}");
        var (exit, _, error) = CliRunner.Run("compare", a, "--metric", "mi", "--out", temp.File("charts"));
        Assert.Equal(1, exit);
        Assert.Contains("No run recorded 'mi'", error);
        Assert.Contains("test_neg_elbo", error);
        Assert.False(Directory.Exists(temp.File("charts")));
    }

    [Fact]
    public void AFolderWithoutMetricsIsRefused()
    {
        using var temp = new TempFolder();
        var (exit, _, error) = CliRunner.Run("compare", temp.Path, "--metric", "mi");
        Assert.Equal(1, exit);
        Assert.Contains("has no metrics.jsonl", error);
    }
}
