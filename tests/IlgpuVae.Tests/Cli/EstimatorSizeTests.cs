using System.Text.Json;
using IlgpuVae.Metrics;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// Every estimate is defined for the sizes it accepts: one image has a −ELBO, while the unbiased MMD² needs two
/// codes, so sets smaller than that are refused up front, naming the estimator, with nothing written.
/// </summary>
public sealed class EstimatorSizeTests
{
    [Theory]
    [InlineData("the unbiased MMD² of the test loss (test_mmd) needs 2. Use --test-limit 2 or more", "--test-limit", "1")]
    [InlineData("--batch-size 1 is too small for the unbiased MMD² estimator", "--train-limit", "1", "--batch-size", "1")]
    [InlineData("--batch-size 1 is too small for the unbiased MMD² estimator", "--train-limit", "1", "--batch-size", "1", "--model", "vae")]
    [InlineData("the evaluation of --eval-every needs 2 for its aggregate MMD² (mmd_aggregate)", "--test-limit", "1", "--estimator", "biased", "--eval-every", "1")]
    public void TrainRefusesSetsTooSmallForAnEstimatorByName(string message, params string[] options)
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        var (exit, _, error) = CliRunner.Train(run, options);
        Assert.Equal(1, exit);
        Assert.Contains(message, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void OneTestImageHasATestElboWithTheBiasedEstimatorAndNoInterpolation()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        var (exit, output, error) = CliRunner.Train(run, "--test-limit", "1", "--estimator", "biased", "--epochs", "1");
        Assert.True(exit == 0, error);
        var metrics = JsonDocument.Parse(File.ReadAllLines(Path.Combine(run, RunFolder.MetricsFile)).Single()).RootElement;
        foreach (var key in new[] { "test_neg_elbo", "test_recon", "test_kl", "test_mmd", "test_loss" })
            Assert.True(metrics.GetProperty(key).ValueKind == JsonValueKind.Number && double.IsFinite(metrics.GetProperty(key).GetDouble()), key);
        Assert.Contains(RunPictures.NoInterpolation(1), output);
        Assert.False(File.Exists(Path.Combine(run, RunPictures.Interpolation)));
        Assert.DoesNotContain(RunPictures.Interpolation, output.Split('\n').Single(l => l.StartsWith("Wrote")));
    }

    [Fact]
    public void EvalOfOneImageIsRefusedNamingTheAggregateMmdAndTwoImagesGiveFiniteNumbers()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        Assert.Equal(0, CliRunner.Train(run, "--epochs", "1").Exit);
        var (exit, output, error) = CliRunner.Run("eval", run, "--limit", "1", "--iwae-k", "0", "--out", temp.File("one"));
        Assert.Equal(1, exit);
        Assert.Contains("aggregate MMD² (mmd_aggregate)", error);
        Assert.Contains("got 1", error);
        Assert.Empty(output);
        Assert.False(Directory.Exists(temp.File("one")));

        (exit, _, error) = CliRunner.Run("eval", run, "--limit", "2", "--iwae-k", "0", "--out", temp.File("two"));
        Assert.True(exit == 0, error);
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(temp.File("two"), RunFolder.EvalFile))).RootElement;
        // A skipped estimate is null (the IWAE's with --iwae-k 0, the inference gaps' without --gaps), never the string "NaN";
        // every other number is finite.
        string[] skipped = [MetricKey.IwaeNll, .. MetricKey.InferenceGaps];
        foreach (var key in skipped) Assert.Equal(JsonValueKind.Null, json.GetProperty(key).ValueKind);
        foreach (var p in json.EnumerateObject().Where(p => !skipped.Contains(p.Name)))
            Assert.True(p.Value.ValueKind is JsonValueKind.Number or JsonValueKind.Array, $"{p.Name} is {p.Value.GetRawText()}");
    }
}
