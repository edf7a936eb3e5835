using System.Text.Json.Nodes;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;
using Microsoft.ML.OnnxRuntime;

namespace IlgpuVae.Tests.Cli;

/// <summary>`export RUN --format onnx` end to end, and every way it refuses: one message, exit 1, nothing written.</summary>
public sealed class ExportCommandTests(TrainedRunFixture run) : IClassFixture<TrainedRunFixture>
{
    [Fact]
    public void WritesAnEncoderAndADecoderThatOnnxRuntimeLoads()
    {
        using var temp = new TempFolder();
        string folder = temp.File("onnx");
        var (exit, output, error) = CliRunner.Run("export", run.Run, "--format", "onnx", "--out", folder);
        Assert.True(exit == 0, error);
        Assert.Contains("encoder.onnx", output);
        using var encoder = new InferenceSession(Path.Combine(folder, "encoder.onnx"));
        using var decoder = new InferenceSession(Path.Combine(folder, "decoder.onnx"));
        Assert.Equal(["x"], encoder.InputMetadata.Keys);
        Assert.Equal(["mu", "logvar"], encoder.OutputMetadata.Keys);
        Assert.Equal([-1, 784], encoder.InputMetadata["x"].Dimensions);
        Assert.Equal(["logits"], decoder.OutputMetadata.Keys);
        Assert.Equal([-1, 3], decoder.InputMetadata["z"].Dimensions);
    }

    [Fact]
    public void RefusesToOverwriteAnExportAndLeavesItAsItWas()
    {
        using var temp = new TempFolder();
        string folder = temp.File("onnx");
        Assert.Equal(0, CliRunner.Run("export", run.Run, "--out", folder).Exit);
        var before = File.ReadAllBytes(Path.Combine(folder, "decoder.onnx"));
        var (exit, _, error) = CliRunner.Run("export", run.Run, "--out", folder);
        Assert.Equal(1, exit);
        Assert.Contains("encoder.onnx' already exists", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(folder, "decoder.onnx")));
        Assert.Equal(2, Directory.GetFiles(folder).Length);
    }

    [Fact]
    public void RefusesAnUnknownFormat()
    {
        using var temp = new TempFolder();
        var (exit, _, error) = CliRunner.Run("export", run.Run, "--format", "tflite", "--out", temp.File("out"));
        Assert.Equal(1, exit);
        Assert.Contains("--format must be one of onnx; got 'tflite'", error);
        Assert.False(Directory.Exists(temp.File("out")));
    }

    [Fact]
    public void RefusesARunWithoutWeights()
    {
        using var temp = new TempFolder();
        string folder = temp.File("run");
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(run.Run, RunFolder.ConfigFile), Path.Combine(folder, RunFolder.ConfigFile));
        var (exit, _, error) = CliRunner.Run("export", folder);
        Assert.Equal(1, exit);
        Assert.Contains("no model.safetensors yet", error);
        Assert.Equal([Path.Combine(folder, RunFolder.ConfigFile)], Directory.GetFiles(folder));
    }

    [Fact]
    public void RefusesWeightsOfAnotherArchitecture()
    {
        using var temp = new TempFolder();
        string folder = temp.File("run");
        Directory.CreateDirectory(folder);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(run.Run, RunFolder.ConfigFile)))!;
        config["hidden"] = new JsonArray(25);
        config["decoder_hidden"] = new JsonArray(25);
        File.WriteAllText(Path.Combine(folder, RunFolder.ConfigFile), config.ToJsonString());
        File.Copy(Path.Combine(run.Run, RunFolder.ModelFile), Path.Combine(folder, RunFolder.ModelFile));
        var (exit, _, error) = CliRunner.Run("export", folder);
        Assert.Equal(1, exit);
        Assert.Contains("tensor 'encoder.0.weight' has shape [24, 784]", error);
        Assert.Equal(2, Directory.GetFiles(folder).Length);
    }
}
