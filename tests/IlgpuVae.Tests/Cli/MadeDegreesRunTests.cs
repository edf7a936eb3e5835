using System.Text.Json.Nodes;
using IlgpuVae.Model;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// made_degrees in config.json: a new run records the spread rule; a run whose config.json lacks the key was trained
/// before the key existed, with the cyclic rule, and keeps those masks through loading, eval, sample and resume.
/// </summary>
public sealed class MadeDegreesRunTests
{
    /// <summary>A MADE decoder narrower than d − 1 = 783 (where the rules differ most) and a two-step flow over k = 3.</summary>
    static readonly string[] Autoregressive =
        ["--decoder", "made", "--made-hidden", "12", "--posterior", "iaf", "--flow-steps", "2", "--flow-hidden", "8", "--context-dim", "4"];

    /// <summary>config.json's text as a run from before made_degrees wrote it.</summary>
    static string WithoutTheKey(string json)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        Assert.True(node.Remove("made_degrees"));
        return node.ToJsonString(RunConfig.Json);
    }

    [Fact]
    public void ANewConfigRecordsTheSpreadRuleAndOneWithoutTheKeyReadsAsCyclic()
    {
        string json = new RunConfig().ToJson();
        Assert.Contains("\"made_degrees\": \"spread\"", json);
        Assert.Equal("spread", RunConfig.FromJson(json, "config.json").MadeDegrees);
        Assert.Equal("cyclic", RunConfig.FromJson(new RunConfig { MadeDegrees = "cyclic" }.ToJson(), "config.json").MadeDegrees);
        Assert.Equal("cyclic", RunConfig.FromJson(WithoutTheKey(json), "config.json").MadeDegrees);
    }

    [Fact]
    public void ARunWithoutTheKeyLoadsEvaluatesSamplesAndResumesWithItsCyclicMasks()
    {
        using var temp = new TempFolder();
        string legacy = temp.File("legacy"), whole = temp.File("whole");
        var (exit, output, error) = CliRunner.Train(legacy, [.. Autoregressive, "--made-degrees", "cyclic", "--epochs", "1"]);
        Assert.True(exit == 0, error + output);
        string config = Path.Combine(legacy, RunFolder.ConfigFile);
        File.WriteAllText(config, WithoutTheKey(File.ReadAllText(config)));

        using (var opened = TrainedModel.Open(legacy, null, "cpu", 8))
        {
            Assert.Equal(MadeDegrees.Cyclic, opened.Model.Spec.MadeDegrees);
            var layout = opened.Model.Layout;
            var decoder = Made.Masks(Made.InputDegrees(784, reversed: false), [12], MadeDegrees.Cyclic);
            Assert.Equal(decoder[0], layout["decoder.made.0.weight"].Mask);
            Assert.Equal(decoder[1], layout["decoder.out.weight"].Mask);
            Assert.NotEqual(Made.Masks(Made.InputDegrees(784, reversed: false), [12], MadeDegrees.Spread)[0], layout["decoder.made.0.weight"].Mask);
            var step = Made.Masks(Made.InputDegrees(3, reversed: true), [8], MadeDegrees.Cyclic, outputBlocks: 2);
            Assert.Equal(step[0], layout["flow.1.made.0.weight"].Mask);
            Assert.Equal(step[1][..(3 * 8)], layout["flow.1.m.weight"].Mask);
        }

        (exit, output, error) = CliRunner.Run("eval", legacy, "--device", "cpu", "--iwae-k", "4", "--mi-limit", "16");
        Assert.True(exit == 0, error + output);
        (exit, output, error) = CliRunner.Run("sample", legacy, "--out", temp.File("pictures"), "--count", "4", "--device", "cpu");
        Assert.True(exit == 0, error + output);

        // Resumed, it keeps the rule (and says so in its config.json from then on) and ends where an uninterrupted run does.
        (exit, _, error) = CliRunner.Run("train", "--resume", legacy, "--epochs", "2", "--made-degrees", "spread");
        Assert.Equal(1, exit);
        Assert.Contains("--made-degrees spread differs from the saved configuration", error);
        (exit, output, error) = CliRunner.Run("train", "--resume", legacy, "--epochs", "2");
        Assert.True(exit == 0, error + output);
        Assert.Contains("cyclic MADE degrees", output);
        Assert.Contains("\"made_degrees\": \"cyclic\"", File.ReadAllText(config));
        (exit, output, error) = CliRunner.Train(whole, [.. Autoregressive, "--made-degrees", "cyclic", "--epochs", "2"]);
        Assert.True(exit == 0, error + output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, RunFolder.ModelFile)), File.ReadAllBytes(Path.Combine(legacy, RunFolder.ModelFile)));
    }
}
