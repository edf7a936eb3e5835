using System.Diagnostics;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;
using IlgpuVae.Tests.Model;
using Xunit.Abstractions;

namespace IlgpuVae.Tests.Cli;

/// <summary>Runs the built command line under mpiexec.</summary>
internal static class Mpi
{
    public static string Exec => Prerequisites.Mpiexec ?? throw new InvalidOperationException(Prerequisites.MissingReason(Prerequisite.Mpiexec));

    /// <summary>
    /// mpiexec with one group per set of processes (MPMD: "-n 1 … : -n 1 …"), each running IlgpuVae.Cli.dll beside the
    /// tests, with the test assembly's runtime and dependency files, with its own arguments.
    /// </summary>
    public static (int Exit, string Output, string Error) Run(params (int Processes, string[] Arguments)[] groups)
    {
        var start = new ProcessStartInfo(Exec) { RedirectStandardOutput = true, RedirectStandardError = true };
        for (int g = 0; g < groups.Length; g++)
        {
            var (dotnet, cli) = CliRunner.ChildCommand(groups[g].Arguments);
            string[] command = [.. g > 0 ? [":"] : Array.Empty<string>(), "-n", groups[g].Processes.ToString(), dotnet, .. cli];
            foreach (var a in command) start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5))) process.Kill(entireProcessTree: true);
        return (process.ExitCode, output, error.Result);
    }

    /// <summary><paramref name="processes"/> running the tiny training run of <see cref="CliRunner.TinyTrain"/> into <paramref name="run"/>, with <paramref name="extra"/>.</summary>
    public static (int, string[]) Tiny(int processes, string run, params string[] extra) => (processes, [.. CliRunner.TinyTrain, "--out", run, .. extra]);
}

/// <summary>
/// `mpiexec -n 2 IlgpuVae.Cli train`: two processes, one CPU accelerator each, train the global batch as one device
/// does; process 0 alone writes the run. A process that fails ends the job with one message naming it; processes
/// started with different options refuse to train.
/// </summary>
public sealed class MpiRunTests(ITestOutputHelper log)
{
    [NeedsFact(Prerequisite.Mpiexec)]
    public void TwoProcessesMatchOneAndOnlyTheFirstWrites()
    {
        using var temp = new TempFolder();
        string one = temp.File("one"), two = temp.File("two");
        var single = CliRunner.Train(one, "--epochs", "1");
        Assert.True(single.Exit == 0, single.Error);
        var (exit, output, error) = Mpi.Run(Mpi.Tiny(2, two, "--epochs", "1"));
        Assert.True(exit == 0, error + output);
        Assert.Single(output.Split('\n'), l => l.StartsWith("epoch 1/1  train"));
        Assert.Contains("Devices: 2 replicas", output);

        double difference = DataParallelRunTests.WeightDifference(two, one);
        log.WriteLine($"mpiexec -n 2 against one process after one epoch: ‖Δθ‖/‖θ‖ = {difference:E2}");
        Assert.True(difference <= DataParallelTests.Tolerance, $"the weights differ by {difference:E2} norm-wise");
        Assert.Equal(2, DataParallelRunTests.Metrics(two)[0]["replicas"].GetInt32());
    }

    [NeedsFact(Prerequisite.Mpiexec)]
    public void AFailureEndsEveryProcessWithOneMessage()
    {
        using var temp = new TempFolder();
        var (exit, output, error) = Mpi.Run(Mpi.Tiny(2, temp.File("run"), "--lr", "0"));
        log.WriteLine($"exit {exit}\nstdout:\n{output}\nstderr:\n{error}");
        Assert.NotEqual(0, exit);
        Assert.Single(error.Split('\n'), l => l.StartsWith("error: "));
        Assert.Contains("error: process 0 of 2: ", error);
        Assert.Contains("learning rate must be positive", error);
        Assert.False(Directory.Exists(temp.File("run")));
    }

    [NeedsFact(Prerequisite.Mpiexec)]
    public void ProcessesWithDifferentOptionsRefuseToStart()
    {
        using var temp = new TempFolder();
        string run = temp.File("run");
        var (exit, output, error) = Mpi.Run(Mpi.Tiny(1, run), Mpi.Tiny(1, run, "--seed", "2"));
        log.WriteLine($"exit {exit}\nstdout:\n{output}\nstderr:\n{error}");
        Assert.NotEqual(0, exit);
        Assert.Contains("Process 1 holds another configuration or data set than process 0", error);
        Assert.Single(error.Split('\n'), l => l.StartsWith("error: "));
        Assert.False(File.Exists(Path.Combine(run, RunFolder.ModelFile)));
    }
}
