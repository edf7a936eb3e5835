using System.Diagnostics;
using System.Runtime.InteropServices;
using IlgpuVae.Cli;
using IlgpuVae.IO;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>
/// Real signals to a real process (the command line beside the tests): SIGINT and SIGTERM stop after the step in
/// progress, save there and exit 130 and 143; a repeat within a second is the same request; a later one quits at once.
/// </summary>
public sealed class SignalTests
{
    const int Sigint = 2, Sigterm = 15;

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    /// <summary>The command line as a child process, its output read line by line as it comes.</summary>
    sealed class Child : IDisposable
    {
        readonly Process process;
        readonly List<string> lines = [];

        public Child(params string[] args)
        {
            var (dotnet, arguments) = CliRunner.ChildCommand(args);
            var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in arguments) start.ArgumentList.Add(a);
            process = Process.Start(start)!;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public string Output
        {
            get { lock (lines) return string.Join("\n", lines); }
        }

        /// <summary>Waits until a line contains <paramref name="text"/>.</summary>
        public void WaitFor(string text)
        {
            var clock = Stopwatch.StartNew();
            while (!Output.Contains(text))
            {
                if (process.HasExited) Assert.Fail($"exited ({process.ExitCode}) before printing '{text}':\n{Output}");
                Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"no '{text}' after two minutes:\n{Output}");
                Thread.Sleep(20);
            }
        }

        public void Signal(int signal) => Assert.Equal(0, kill(process.Id, signal));

        public int Exit(TimeSpan within)
        {
            Assert.True(process.WaitForExit(within), $"still running after {within.TotalSeconds} s:\n{Output}");
            process.WaitForExit(); // the rest of the output
            return process.ExitCode;
        }

        public void Dispose()
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.Dispose();
        }
    }

    /// <summary>A small model for many epochs on the CPU accelerator: still training whenever a signal comes.</summary>
    static string[] LongRun(string folder) => [.. CliRunner.TinyTrain, "--epochs", "10000", "--out", folder];

    /// <summary>Steps of seconds (a conv model, a large batch), so a stop request waits a while for its step to end.</summary>
    static string[] SlowSteps(string folder) =>
        ["train", "--arch", "conv", "--batch-size", "1024", "--train-limit", "2048", "--test-limit", "64", "--device", "cpu", "--out", folder];

    [Fact]
    public void TwoSigintsWithinASecondAreOneStopThatSavesAndExits130()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        using var child = new Child(SlowSteps(run));
        child.WaitFor("Run folder:");
        child.Signal(Sigint);
        // As GNU timeout sends it, to the child and then to its process group; a moment apart, so the kernel does
        // not merge the two into one pending signal.
        Thread.Sleep(200);
        child.Signal(Sigint);
        Assert.Equal(130, child.Exit(TimeSpan.FromSeconds(60)));
        string output = child.Output;
        Assert.Single(output.Split('\n'), l => l.StartsWith("Ctrl+C: stopping after this step"));
        Assert.Contains($"saved the weights and the training state in {run}. Continue with: train --resume {run}", output);
        Assert.DoesNotContain("Wrote", output);
        Assert.Contains("Stopped in epoch 1 after step 1 of 2", output);
        Assert.Equal("1", SafeTensors.ReadMetadata(Path.Combine(run, RunFolder.StateFile))["epoch_batch"]);
    }

    [Fact]
    public void SigtermSavesLikeCtrlCAndExits143()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        using var child = new Child(LongRun(run));
        child.WaitFor("epoch 2/10000");
        child.Signal(Sigterm);
        Assert.Equal(143, child.Exit(TimeSpan.FromSeconds(60)));
        Assert.Contains("SIGTERM: stopping after this step", child.Output);
        Assert.Contains($"Continue with: train --resume {run}", child.Output);
        Assert.True(File.Exists(Path.Combine(run, RunFolder.StateFile)));
    }

    [Fact]
    public void ASecondSigintLaterThanASecondQuitsAtOnceAndResumeRestarts()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        using var child = new Child(SlowSteps(run));
        child.WaitFor("Run folder:");
        child.Signal(Sigint);
        Thread.Sleep(StopPolicy.RepeatWindow + TimeSpan.FromMilliseconds(300));
        child.Signal(Sigint);
        Assert.Equal(130, child.Exit(TimeSpan.FromSeconds(5)));
        Assert.Contains("Ctrl+C again: quitting at once", child.Output);
        Assert.DoesNotContain("Stopped in epoch", child.Output);
        Assert.False(File.Exists(Path.Combine(run, RunFolder.ModelFile)), "no epoch was complete, so no checkpoint");
        Assert.True(File.Exists(Path.Combine(run, RunFolder.ConfigFile)));
    }

    [Fact]
    public void TheFirstSignalStopsARepeatWithinTheWindowIsTheSameRequestALaterOneQuits()
    {
        var policy = new StopPolicy();
        var t0 = TimeSpan.FromSeconds(100);
        Assert.Equal(StopPolicy.Decision.Stop, policy.Receive(PosixSignal.SIGINT, t0));
        Assert.Equal(StopPolicy.Decision.Repeat, policy.Receive(PosixSignal.SIGINT, t0 + TimeSpan.FromMilliseconds(5)));
        Assert.Equal(StopPolicy.Decision.Repeat, policy.Receive(PosixSignal.SIGTERM, t0 + StopPolicy.RepeatWindow));
        Assert.Equal(StopPolicy.Decision.Quit, policy.Receive(PosixSignal.SIGINT, t0 + StopPolicy.RepeatWindow + TimeSpan.FromMilliseconds(1)));
        Assert.Equal(PosixSignal.SIGINT, policy.First);
    }
}
