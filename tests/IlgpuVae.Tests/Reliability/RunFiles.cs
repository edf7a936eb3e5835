using System.Diagnostics;
using IlgpuVae.IO;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Cli;

namespace IlgpuVae.Tests.Reliability;

/// <summary>What the fault tests share: the command line as a child process, and run folders compared bit for bit.</summary>
internal static class RunFiles
{
    /// <summary>Starts the command line as a process of its own, with <paramref name="environment"/> added; output read as it comes.</summary>
    public static (Process Process, Func<string> Output) Start(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        StartIn(null, environment, args);

    /// <summary><see cref="Start"/> in the working directory <paramref name="directory"/> (null: this process's).</summary>
    public static (Process Process, Func<string> Output) StartIn(string? directory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var (dotnet, arguments) = CliRunner.ChildCommand(args);
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory ?? "" };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var process = Process.Start(start)!;
        var lines = new List<string>();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return (process, () => { lock (lines) return string.Join("\n", lines); });
    }

    /// <summary>Runs the command line as a child process to its end; returns its exit code and output.</summary>
    public static (int Exit, string Output) RunChild(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        RunChildIn(null, environment, args);

    /// <summary><see cref="RunChild"/> in the working directory <paramref name="directory"/>.</summary>
    public static (int Exit, string Output) RunChildIn(string? directory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var (process, output) = StartIn(directory, environment, args);
        using (process)
        {
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), $"still running after two minutes:\n{output()}");
            process.WaitForExit();
            return (process.ExitCode, output());
        }
    }

    /// <summary>Asserts that <paramref name="run"/> ended with the very weights, optimizer state and metrics epochs of <paramref name="reference"/>.</summary>
    public static void AssertSameCheckpoint(string reference, string run)
    {
        var a = SafeTensors.Read(Path.Combine(reference, RunFolder.ModelFile));
        var b = SafeTensors.Read(Path.Combine(run, RunFolder.ModelFile));
        Assert.Equal(a.Select(t => t.Name), b.Select(t => t.Name));
        for (int i = 0; i < a.Count; i++)
            Assert.True(a[i].Data.AsSpan().SequenceEqual(b[i].Data), $"{a[i].Name} differs from the uninterrupted run's");
        Assert.Equal(File.ReadAllBytes(Path.Combine(reference, RunFolder.StateFile)), File.ReadAllBytes(Path.Combine(run, RunFolder.StateFile)));
        Assert.Equal(Epochs(reference), Epochs(run));
        Assert.False(Directory.Exists(Path.Combine(run, CheckpointCommit.PendingFolder)), "a pending checkpoint was left behind");
    }

    /// <summary>The epochs of metrics.jsonl's lines, in order.</summary>
    public static int[] Epochs(string run) => File.ReadAllLines(Path.Combine(run, RunFolder.MetricsFile))
        .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("epoch").GetInt32()).ToArray();
}
