using IlgpuVae.Runs;
using IlgpuVae.Tests.Cli;
using IlgpuVae.Tests.Infrastructure;
using Xunit.Abstractions;

namespace IlgpuVae.Tests.Reliability;

/// <summary>
/// A crash at every step of a checkpoint's commit, and kill -9 at random moments: each time `train --resume` continues
/// from a consistent pair (the new one or the one before it), and the run ends bit-identical to one never interrupted.
/// </summary>
public sealed class CheckpointCrashTests(ITestOutputHelper log)
{
    public static TheoryData<string> Stages() => new(CheckpointCommit.Stages);

    [Theory]
    [MemberData(nameof(Stages))]
    public void ACrashAtEveryStepOfTheCommitResumesBitIdentical(string stage)
    {
        using var temp = new TempFolder();
        string straight = temp.File("straight"), run = temp.File("run");
        Assert.Equal(0, CliRunner.Train(straight, "--epochs", "3").Exit);

        // Killed in the second commit (after epoch 2), with the first pair in place.
        var (exit, output) = RunFiles.RunChild(new Dictionary<string, string> { [CheckpointCommit.CrashVariable] = $"{stage}@2" },
            CliRunner.TrainArguments(run, "--epochs", "3"));
        Assert.True(exit == 137, $"expected the hook to kill the process (137), got {exit}:\n{output}");

        var (resumed, printed, error) = CliRunner.Run("train", "--resume", run);
        Assert.True(resumed == 0, error);
        // Before the marker the commit did not happen: epoch 1's pair stands; from the marker on, epoch 2's.
        int committed = Array.IndexOf(CheckpointCommit.Stages, stage) >= Array.IndexOf(CheckpointCommit.Stages, "marked") ? 2 : 1;
        Assert.Contains($"after epoch {committed} of 3", printed);
        RunFiles.AssertSameCheckpoint(straight, run);
    }

    [Fact]
    public void ThirtyKillsAtSeededRandomMomentsEachResumeAndTheRunEndsBitIdentical()
    {
        const int kills = 30;
        string[] args = ["train", "--train-limit", "64", "--test-limit", "32", "--batch-size", "32", "--hidden", "8", "--latent", "2",
            "--device", "cpu", "--epochs", "1000"];
        using var temp = new TempFolder();
        string straight = temp.File("straight"), run = temp.File("run");
        Assert.Equal(0, CliRunner.Run([.. args, "--out", straight]).Exit);

        var random = new Random(32);
        int killed = 0, inCommit = 0;
        var from = new List<string>();
        while (killed < kills)
        {
            var (process, output) = RunFiles.Start(null, killed == 0 ? [.. args, "--out", run] : ["train", "--resume", run]);
            using (process)
            {
                // Training (its first step done), then 0 to 2 whole epochs and a moment of steps, a checkpoint or the
                // pictures: counted in epochs, so a faster machine does not finish the run before the kills are done. An
                // epoch here takes a millisecond or less on a quiet machine, so the waits are short: the polls and the
                // moment together pass at most some tens of epochs, 30 kills well under the run's 1,000.
                while (!process.HasExited && !output().Contains(" step 1/")) Thread.Sleep(1);
                int epochs = random.Next(0, 3);
                while (!process.HasExited && CompletedEpochs(output()) < epochs) Thread.Sleep(1);
                Thread.Sleep(random.Next(0, 20));
                if (process.HasExited)
                {
                    process.WaitForExit();
                    Assert.True(process.ExitCode == 0, $"exit {process.ExitCode} after {killed} kills:\n{output()}");
                    break;
                }
                process.Kill();
                process.WaitForExit();
                killed++;
                if (Directory.Exists(Path.Combine(run, CheckpointCommit.PendingFolder))) inCommit++;
                if (output().Split('\n').FirstOrDefault(l => l.StartsWith("Resuming")) is { } line) from.Add(line[(line.IndexOf(" after ") + 1)..]);
            }
        }
        var (exit, _, error) = CliRunner.Run("train", "--resume", run);
        Assert.True(exit == 0, error);
        RunFiles.AssertSameCheckpoint(straight, run);
        log.WriteLine($"kill -9 survived: {killed} (of which {inCommit} left a checkpoint mid-commit); every resume continued; files lost: 0.");
        log.WriteLine($"resumed from {from.Distinct().Count()} different checkpoints: {string.Join("; ", from.Distinct())}");
        Assert.Equal(kills, killed);
    }

    /// <summary>The epochs a child has reported complete (their line gives the test loss).</summary>
    static int CompletedEpochs(string output) => output.Split('\n').Count(l => l.Contains(" test loss "));
}
