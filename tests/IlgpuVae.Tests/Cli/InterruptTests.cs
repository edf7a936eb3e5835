using IlgpuVae.IO;
using IlgpuVae.Model;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// A stop request in the middle of an epoch (what Ctrl+C sends) ends the run cleanly after the step in progress
/// and saves there; `--resume` continues from that step and ends bit-identical to an uninterrupted run, with the
/// same metrics for the interrupted epoch.
/// </summary>
public sealed class InterruptTests
{
    /// <summary>Asks to stop on hearing of step <paramref name="step"/> of epoch <paramref name="epoch"/> (0, 0: never).</summary>
    internal sealed class StopAfter(int epoch, int step, CancellationTokenSource stop) : ITrainingObserver
    {
        int current;
        public List<string> Messages { get; } = [];
        public void Info(string message) => Messages.Add(message);
        public void EpochStarted(int epoch, int epochs, int batches, int batchSize) => current = epoch;
        public void StepCompleted(int batch, int batches, LossTerms terms)
        {
            if (current == epoch && batch == step) stop.Cancel();
        }
        public void EpochCompleted(EpochReport report) { }
    }

    static readonly RunConfig Tiny = new()
    {
        TrainLimit = 160, TestLimit = 32, BatchSize = 32, Hidden = [16], Latent = 3, Device = "cpu", Epochs = 3,
    };

    [Fact]
    public void InterruptedAndResumedEqualsUninterrupted()
    {
        using var temp = new TempFolder();
        string interrupted = temp.File("interrupted"), straight = temp.File("straight");
        using var stop = new CancellationTokenSource();
        // The observer hears of a step when its terms are read, one step late: the stop asked for on hearing of
        // step 2 arrives while step 3 runs, which completes.
        var observer = new StopAfter(epoch: 2, step: 2, stop);
        TrainingSession.Run(Tiny, interrupted, null, null, observer, stop.Token);

        Assert.Contains(observer.Messages, m => m.Contains("Stopped in epoch 2 after step 3 of 5; saved") && m.Contains("--resume"));
        Assert.Equal("3", SafeTensors.ReadMetadata(Path.Combine(interrupted, RunFolder.StateFile))["epoch_batch"]);
        Assert.Single(File.ReadAllLines(Path.Combine(interrupted, RunFolder.MetricsFile)));
        Assert.Empty(Directory.GetFiles(interrupted, "*.tmp-*"));

        TrainingSession.Run(Tiny, null, interrupted, null, new StopAfter(0, 0, new CancellationTokenSource()), CancellationToken.None);
        TrainingSession.Run(Tiny, straight, null, null, new StopAfter(0, 0, new CancellationTokenSource()), CancellationToken.None);

        Assert.Equal(3, File.ReadAllLines(Path.Combine(interrupted, RunFolder.MetricsFile)).Length);
        var a = SafeTensors.Read(Path.Combine(interrupted, RunFolder.ModelFile));
        var b = SafeTensors.Read(Path.Combine(straight, RunFolder.ModelFile));
        for (int i = 0; i < a.Count; i++)
            Assert.True(a[i].Data.AsSpan().SequenceEqual(b[i].Data), $"{a[i].Name} differs after an interrupted and resumed run");
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight, RunFolder.StateFile)), File.ReadAllBytes(Path.Combine(interrupted, RunFolder.StateFile)));
        // The interrupted epoch's train loss adds up to the same number.
        string TrainLoss(string run, int line) => System.Text.Json.JsonDocument.Parse(File.ReadAllLines(Path.Combine(run, RunFolder.MetricsFile))[line])
            .RootElement.GetProperty("train_loss").GetRawText();
        Assert.Equal(TrainLoss(straight, 1), TrainLoss(interrupted, 1));
    }

    [Fact]
    public void WeightsAndStateFromDifferentSavesAreRefused()
    {
        using var temp = new TempFolder();
        string a = temp.File("a"), b = temp.File("b");
        TrainingSession.Run(Tiny with { Epochs = 1 }, a, null, null, new StopAfter(0, 0, new CancellationTokenSource()), CancellationToken.None);
        TrainingSession.Run(Tiny with { Epochs = 2 }, b, null, null, new StopAfter(0, 0, new CancellationTokenSource()), CancellationToken.None);
        File.Copy(Path.Combine(b, RunFolder.StateFile), Path.Combine(a, RunFolder.StateFile), overwrite: true);
        var (exit, _, error) = CliRunner.Run("train", "--resume", a, "--epochs", "3");
        Assert.Equal(1, exit);
        Assert.Contains("inconsistent", error);
    }

    [Fact]
    public void ACheckpointOfAnotherArchitectureIsRefusedByName()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        TrainingSession.Run(Tiny with { Epochs = 1 }, run, null, null, new StopAfter(0, 0, new CancellationTokenSource()), CancellationToken.None);
        // Describe the checkpoint as a model with a wider hidden layer.
        var config = File.ReadAllText(Path.Combine(run, RunFolder.ConfigFile)).Replace("\"hidden\": [\n    16\n  ]", "\"hidden\": [\n    17\n  ]");
        File.WriteAllText(temp.File("other.json"), config);
        var (exit, _, error) = CliRunner.Run("eval", Path.Combine(run, RunFolder.ModelFile), "--config", temp.File("other.json"), "--iwae-k", "0");
        Assert.Equal(1, exit);
        Assert.Contains("encoder.0.weight", error);
        Assert.Contains("[16, 784]", error);
    }

    [Fact]
    public void AConvCheckpointWhoseShapesDifferIsRefusedByName()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        TrainingSession.Run(Tiny with { Epochs = 1, Arch = "conv", Channels = [3, 4], ConvKernel = 3 }, run, null, null,
            new StopAfter(0, 0, new CancellationTokenSource()), CancellationToken.None);
        var config = File.ReadAllText(Path.Combine(run, RunFolder.ConfigFile)).Replace("\"channels\": [\n    3,", "\"channels\": [\n    5,");
        File.WriteAllText(temp.File("other.json"), config);
        var (exit, _, error) = CliRunner.Run("eval", Path.Combine(run, RunFolder.ModelFile), "--config", temp.File("other.json"), "--iwae-k", "0");
        Assert.Equal(1, exit);
        Assert.Contains("encoder.conv.0.weight", error);
        Assert.Contains("[3, 1, 3, 3]", error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
