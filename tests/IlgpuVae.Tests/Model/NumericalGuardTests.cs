using IlgpuVae.IO;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Cli;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;
using IlgpuVae.Training;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// A number that is not finite never reaches a file: the run or the evaluation ends with one message naming the
/// term or estimator and where, exit code 1, and the folder keeps what it held before — through the last
/// complete epoch, or only its config.json (which --resume restarts) for a fault in the first.
/// </summary>
public sealed class NumericalGuardTests
{
    [Fact]
    public void TheGuardNamesTheFirstNonFiniteValueItsMeaningAndWhere()
    {
        var values = new Dictionary<string, object?> { ["epoch"] = 3, ["iwae_nll"] = null, ["train_loss"] = 1.5, ["kl_per_dim"] = new[] { 0.1, double.PositiveInfinity }, ["mi"] = double.NaN };
        var e = Assert.Throws<NumericalFaultException>(() => NumericalGuard.RequireFinite(values, "Training diverged in epoch 3", "Kept."));
        Assert.Equal("Training diverged in epoch 3: the KL per dimension (kl_per_dim) is +∞. Kept.", e.Message);
        values["kl_per_dim"] = new[] { 0.1 };
        e = Assert.Throws<NumericalFaultException>(() => NumericalGuard.RequireFinite(values, "Here", ""));
        Assert.Equal("Here: the mutual information (mi) is NaN.", e.Message);
        values.Remove("mi");
        NumericalGuard.RequireFinite(values, "Here", ""); // null (a skipped estimate) and finite numbers pass
    }

    [Fact]
    public void ADivergenceInTheFirstEpochLeavesOnlyTheConfigThatResumeRestarts()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        var (exit, _, error) = CliRunner.Train(run, "--optimizer", "sgd", "--lr", "1e30");
        Assert.Equal(1, exit);
        Assert.Contains("Training diverged at epoch 1, step", error);
        Assert.Contains($"Nothing was saved: {run} holds only its config.json, and --resume {run} starts the run over.", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Equal([Path.Combine(run, RunFolder.ConfigFile)], Directory.GetFiles(run).Where(f => Path.GetFileName(f) != RunLock.FileName));
    }

    [Fact]
    public void ADivergenceAfterAnEpochKeepsThatEpochsConfigMetricsAndCheckpoint()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        Assert.Equal(0, CliRunner.Train(run, "--epochs", "1", "--optimizer", "sgd").Exit);
        var before = Directory.GetFiles(run).Where(f => !f.EndsWith(".png")).ToDictionary(f => f, File.ReadAllBytes);
        // Epoch 2 diverges: the saved learning rate is raised by hand, as no option may change it on resume.
        string config = Path.Combine(run, RunFolder.ConfigFile);
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"lr\": 0.001", "\"lr\": 1e30"));
        before.Remove(config);

        var (exit, _, error) = CliRunner.Run("train", "--resume", run, "--epochs", "2");
        Assert.Equal(1, exit);
        Assert.Contains("Training diverged at epoch 2, step", error);
        Assert.Contains($"The last checkpoint in {run} is kept; --resume {run} continues from it.", error);
        foreach (var (file, bytes) in before)
            Assert.True(bytes.AsSpan().SequenceEqual(File.ReadAllBytes(file)), $"{Path.GetFileName(file)} changed");
        Assert.Empty(Directory.GetFiles(run, "*.tmp-*"));
    }

    [Fact]
    public void EvalOfWeightsHoldingNaNIsRefusedOnLoadNamingTheTensorAndWritesNothing()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        Assert.Equal(0, CliRunner.Train(run, "--epochs", "1").Exit);
        string weights = Path.Combine(run, RunFolder.ModelFile);
        var tensors = SafeTensors.Read(weights).ToList();
        var bias = tensors.Single(t => t.Name == "decoder.out.bias");
        bias.Data[0] = float.NaN;
        SafeTensors.Write(weights, tensors, SafeTensors.ReadMetadata(weights));

        var (exit, _, error) = CliRunner.Run("eval", run, "--iwae-k", "0", "--limit", "8", "--out", temp.File("eval"));
        Assert.Equal(1, exit);
        Assert.Contains($"{weights}: tensor decoder.out.bias holds NaN at element 0", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.False(Directory.Exists(temp.File("eval")));
    }
}
