using System.Text.Json;
using IlgpuVae.IO;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;
using IlgpuVae.Tests.Model;
using Xunit.Abstractions;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// `train --replicas cpu:0,cpu:1` end to end on the tiny sprites run: the weights match the one-device run within
/// <see cref="DataParallelTests.Tolerance"/>, the first epoch's train loss within its terms' tolerance, the run folder
/// records the replicas, and the run resumes on them.
/// </summary>
public sealed class DataParallelRunTests(ITestOutputHelper log)
{
    internal static double WeightDifference(string run, string reference)
    {
        var a = SafeTensors.Read(Path.Combine(run, RunFolder.ModelFile)).ToDictionary(t => t.Name);
        double diff = 0, norm = 0;
        foreach (var t in SafeTensors.Read(Path.Combine(reference, RunFolder.ModelFile)))
            for (int i = 0; i < t.Data.Length; i++)
            {
                double d = a[t.Name].Data[i] - (double)t.Data[i];
                (diff, norm) = (diff + d * d, norm + (double)t.Data[i] * t.Data[i]);
            }
        return Math.Sqrt(diff / norm);
    }

    internal static List<Dictionary<string, JsonElement>> Metrics(string run) =>
        File.ReadAllLines(Path.Combine(run, RunFolder.MetricsFile)).Select(l => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(l)!).ToList();

    static void AssertSameLoss(string run, string reference)
    {
        double a = Metrics(run)[0]["train_loss"].GetDouble(), b = Metrics(reference)[0]["train_loss"].GetDouble();
        Assert.True(Math.Abs(a - b) <= DataParallelTests.TermsTolerance * Math.Max(1, Math.Abs(b)), $"train_loss {a} against {b} on one device");
    }

    [Fact]
    public void ReplicasMatchOneDeviceRecordThemselvesAndResume()
    {
        using var temp = new TempFolder();
        string one = temp.File("one"), two = temp.File("two");
        var single = CliRunner.Train(one, "--epochs", "1");
        var replicas = CliRunner.Train(two, "--epochs", "1", "--replicas", "cpu:0,cpu:1");
        Assert.True(single.Exit == 0, single.Error);
        Assert.True(replicas.Exit == 0, replicas.Error);
        Assert.Contains("Devices: 2 replicas (cpu:0", replicas.Output);

        double difference = WeightDifference(two, one);
        log.WriteLine($"--replicas cpu:0,cpu:1 against --device cpu after one epoch: ‖Δθ‖/‖θ‖ = {difference:E2}");
        Assert.True(difference <= DataParallelTests.Tolerance, $"the weights differ by {difference:E2} norm-wise");
        AssertSameLoss(two, one);
        var config = RunConfig.FromJson(File.ReadAllText(Path.Combine(two, RunFolder.ConfigFile)), "config");
        Assert.Equal("cpu:0,cpu:1", config.Replicas);
        var metrics = Metrics(two)[0];
        Assert.Equal(2, metrics["replicas"].GetInt32());
        Assert.True(metrics["exchange_seconds"].GetDouble() >= 0);
        Assert.False(Metrics(one)[0].ContainsKey("replicas"));

        var resumed = CliRunner.Run("train", "--resume", two, "--epochs", "2");
        Assert.True(resumed.Exit == 0, resumed.Error);
        Assert.Equal(2, Metrics(two).Count);
    }
}
