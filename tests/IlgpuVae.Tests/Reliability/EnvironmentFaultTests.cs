using System.Diagnostics;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Cli;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Reliability;

/// <summary>What the environment does to a command: a home folder that does not exist, a closed standard output.</summary>
public sealed class EnvironmentFaultTests
{
    /// <summary>Runs the command line through sh, in <paramref name="directory"/>, with <paramref name="redirect"/> after it.</summary>
    static (int Exit, string Error) Shell(string directory, string redirect, Action<ProcessStartInfo> adjust, params string[] args)
    {
        var (dotnet, arguments) = CliRunner.ChildCommand(args);
        string Quote(string a) => "'" + a.Replace("'", "'\\''") + "'";
        var start = new ProcessStartInfo("sh", ["-c", $"exec {Quote(dotnet)} {string.Join(" ", arguments.Select(Quote))} {redirect}"])
        {
            WorkingDirectory = directory, RedirectStandardError = true,
        };
        adjust(start);
        using var process = Process.Start(start)!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, error);
    }

    [Fact]
    public void AHomeThatDoesNotExistPutsNoCacheInTheWorkingDirectory()
    {
        using var temp = new TempFolder();
        var (exit, error) = Shell(temp.Path, "", s =>
        {
            s.Environment["HOME"] = "/nonexistent";
            s.Environment.Remove("XDG_CACHE_HOME");
        }, "train", "--data", "mnist", "--device", "cpu", "--out", "run");
        Assert.Equal(1, exit);
        Assert.Contains("there is no cache folder", error);
        Assert.False(Directory.Exists(Path.Combine(temp.Path, ".cache")), "a .cache folder was made in the working directory");
    }

    [Fact]
    public void AClosedStandardOutputDiscardsTheOutputAndTheRunStillCompletes()
    {
        using var temp = new TempFolder();
        var (exit, error) = Shell(temp.Path, ">&-", _ => { }, [.. CliRunner.TrainArguments("run", "--epochs", "1")]);
        Assert.True(exit == 0, error);
        Assert.DoesNotContain("Access to the path is denied", error);
        Assert.Contains("warning: standard output cannot be written (it is closed or nothing reads it)", error);
        Assert.True(File.Exists(Path.Combine(temp.Path, "run", RunFolder.ModelFile)));
    }
}
