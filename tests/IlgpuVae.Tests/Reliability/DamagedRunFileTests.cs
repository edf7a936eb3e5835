using IlgpuVae.Runs;
using IlgpuVae.Tests.Cli;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Reliability;

/// <summary>
/// A run folder's files are the user's: a damaged metrics.jsonl or config.json ends every command with exit code 1 and one
/// line naming the file (and the line), never the internal-error code 70; a line cut short by a crash is dropped.
/// </summary>
public sealed class DamagedRunFileTests : IClassFixture<DamagedRunFileTests.Run>
{
    /// <summary>One trained run, copied afresh for each case.</summary>
    public sealed class Run : IDisposable
    {
        internal TempFolder Temp { get; } = new();
        public string Folder => Temp.File("run");
        public Run() => Assert.Equal(0, CliRunner.Train(Folder, "--epochs", "1").Exit);
        public void Dispose() => Temp.Dispose();
    }

    readonly Run trained;
    public DamagedRunFileTests(Run trained) => this.trained = trained;

    string Copy(TempFolder temp)
    {
        string copy = temp.File("copy");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(trained.Folder)) File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    [Theory]
    [InlineData("{\"epoch\": 2, \"train_loss\": 1}\nnot json at all\n", "line 3")]
    [InlineData("[1, 2, 3]\n", "line 2")]
    [InlineData("{\"train_loss\": 1}\n", "line 2")]
    [InlineData("{\"epoch\": \"two\"}\n", "line 2")]
    public void ADamagedMetricsLineIsNamedWithItsLine(string appended, string line)
    {
        using var temp = new TempFolder();
        string run = Copy(temp), metrics = Path.Combine(run, RunFolder.MetricsFile);
        File.AppendAllText(metrics, appended);
        var (exit, _, error) = CliRunner.Run("train", "--resume", run, "--epochs", "2");
        Assert.Equal(1, exit);
        Assert.Contains($"{metrics}, {line}, is not a metrics object", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void ALastLineCutShortByACrashIsDropped()
    {
        using var temp = new TempFolder();
        string run = Copy(temp), metrics = Path.Combine(run, RunFolder.MetricsFile);
        File.AppendAllText(metrics, "{\"epoch\": 2, \"train_lo");
        var (exit, _, error) = CliRunner.Run("train", "--resume", run, "--epochs", "2");
        Assert.True(exit == 0, error);
        Assert.Equal([1, 2], RunFiles.Epochs(run));
    }

    [Theory]
    [InlineData("{ \"latent\": ")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("{\"latent\": \"three\"}")]
    [InlineData("{\"hidden\": null}")]
    [InlineData("{\"data\": null}")]
    [InlineData("{\"channels\": null, \"arch\": \"conv\"}")]
    [InlineData("{\"made_hidden\": null}")]
    public void ADamagedConfigIsNamedForEveryCommand(string json)
    {
        using var temp = new TempFolder();
        string run = Copy(temp), config = Path.Combine(run, RunFolder.ConfigFile);
        File.WriteAllText(config, json);
        foreach (var args in new[] { ["train", "--resume", run], ["eval", run, "--iwae-k", "0", "--out", temp.File("e")], ["sample", run, "--out", temp.File("s")], new[] { "export", run, "--out", temp.File("x") } })
        {
            var (exit, _, error) = CliRunner.Run(args);
            Assert.True(exit == 1, $"{args[0]} on config {json}: exit {exit}: {error}");
            Assert.Contains(config, error);
            Assert.Single(error.Trim().Split('\n'));
        }
    }
}
