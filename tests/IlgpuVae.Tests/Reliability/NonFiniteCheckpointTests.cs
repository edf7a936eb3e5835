using IlgpuVae.IO;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Cli;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Reliability;

/// <summary>A NaN or an infinity in either file of a checkpoint is refused on load by every command, naming the file and tensor.</summary>
public sealed class NonFiniteCheckpointTests
{
    static void Poison(string file, string tensor, float value)
    {
        var tensors = SafeTensors.Read(file).ToList();
        tensors.Single(t => t.Name == tensor).Data[1] = value;
        SafeTensors.Write(file, tensors, SafeTensors.ReadMetadata(file));
    }

    [Fact]
    public void EveryCommandRefusesNonFiniteWeightsOrStateNamingTheTensor()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        Assert.Equal(0, CliRunner.Train(run, "--epochs", "1").Exit);
        string weights = Path.Combine(run, RunFolder.ModelFile), state = Path.Combine(run, RunFolder.StateFile);
        var clean = File.ReadAllBytes(weights);

        Poison(weights, "encoder.0.weight", float.PositiveInfinity);
        foreach (var args in new[] { ["sample", run, "--out", temp.File("s")], ["export", run, "--out", temp.File("x")], new[] { "train", "--resume", run, "--epochs", "2" } })
        {
            var (exit, _, error) = CliRunner.Run(args);
            Assert.Equal(1, exit);
            Assert.Contains($"{weights}: tensor encoder.0.weight holds ∞ at element 1", error.Replace("Infinity", "∞"));
            Assert.Single(error.Trim().Split('\n'));
        }
        Assert.False(Directory.Exists(temp.File("s")) && Directory.EnumerateFiles(temp.File("s")).Any());

        File.WriteAllBytes(weights, clean);
        Poison(state, "optimizer.second", float.NaN);
        var (code, _, message) = CliRunner.Run("train", "--resume", run, "--epochs", "2");
        Assert.Equal(1, code);
        Assert.Contains($"{state}: tensor optimizer.second holds NaN at element 1", message);
    }
}
