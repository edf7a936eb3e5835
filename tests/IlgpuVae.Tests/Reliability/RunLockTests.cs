using System.Text.Json;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Cli;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Reliability;

/// <summary>
/// A run folder has one writer: while a train runs, a second train on its folder is refused naming the process and
/// host, eval reads the last committed checkpoint and says which, and after kill -9 the folder is free again.
/// </summary>
public sealed class RunLockTests
{
    [Fact]
    public void ASecondWriterIsRefusedNamingTheFirstEvalReadsMeanwhileAndAKilledRunFreesTheFolder()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        var (child, output) = RunFiles.Start(null, CliRunner.TrainArguments(run, "--epochs", "100000"));
        using (child)
        {
            while (!output().Contains("epoch 2/")) // a checkpoint is committed
            {
                Assert.False(child.HasExited, output());
                Thread.Sleep(20);
            }
            string holder = $"pid {child.Id} host {Environment.MachineName}";

            var (exit, _, error) = CliRunner.Run("train", "--resume", run);
            Assert.Equal(1, exit);
            Assert.Contains($"'{Path.GetFullPath(run)}' is being trained by another process ({holder})", error);
            Assert.Single(error.Trim().Split('\n'));

            (exit, _, error) = CliRunner.Train(run);
            Assert.Equal(1, exit);
            Assert.Contains($"is being trained by another process ({holder})", error);
            Assert.DoesNotContain("--resume", error);

            // Readers take no lock: eval records the checkpoint it read.
            string evalOut = temp.File("eval");
            (exit, var printed, error) = CliRunner.Run("eval", run, "--iwae-k", "0", "--out", evalOut);
            Assert.True(exit == 0, error);
            var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(evalOut, RunFolder.EvalFile))).RootElement;
            int epoch = json.GetProperty("checkpoint_epoch").GetInt32();
            Assert.True(epoch >= 1);
            Assert.Equal(6 * epoch, json.GetProperty("checkpoint_step").GetInt64());
            Assert.Contains($"after epoch {epoch}, optimizer step {6 * epoch}", printed);

            child.Kill();
            child.WaitForExit();
        }
        var (resumed, _, resumeError) = CliRunner.Run("train", "--resume", run, "--epochs", "1");
        Assert.True(resumed == 0, resumeError);
    }

    [Fact]
    public void TwoTrainsStartedTogetherOnOneFolderLeaveOneRunWithItsEpochsInOrder()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        var first = RunFiles.Start(null, CliRunner.TrainArguments(run, "--epochs", "3"));
        var second = RunFiles.Start(null, CliRunner.TrainArguments(run, "--epochs", "3"));
        using (first.Process)
        using (second.Process)
        {
            first.Process.WaitForExit();
            second.Process.WaitForExit();
            var exits = new[] { first.Process.ExitCode, second.Process.ExitCode }.Order().ToArray();
            Assert.True(exits is [0, 1], $"exits {exits[0]}, {exits[1]}:\n{first.Output()}\n---\n{second.Output()}");
        }
        Assert.Equal([1, 2, 3], RunFiles.Epochs(run));
    }

    [Fact]
    public void OutOnAFolderWhoseRunEndedStillPointsToResume()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        Assert.Equal(0, CliRunner.Train(run, "--epochs", "1").Exit);
        var (exit, _, error) = CliRunner.Train(run);
        Assert.Equal(1, exit);
        Assert.Contains($"continue it with --resume {run} once no process trains it", error);
    }

    [Fact]
    public void DefaultFoldersStartedTogetherAreEachTheirOwn()
    {
        using var temp = new TempFolder();
        string parent = temp.File("runs");
        var folders = new RunFolder[8];
        Parallel.For(0, folders.Length, i => folders[i] = RunFolder.CreateNew(RunFolder.NewDefaultPath(parent)));
        try
        {
            Assert.Equal(folders.Length, folders.Select(f => f.Path).Distinct().Count());
        }
        finally
        {
            foreach (var f in folders) f?.Lock?.Dispose();
        }
    }
}
