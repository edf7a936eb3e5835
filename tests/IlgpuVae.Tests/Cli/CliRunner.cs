using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>Runs the command line in-process, capturing what it prints.</summary>
internal static class CliRunner
{
    /// <summary>A tiny, fast training configuration on generated sprites, on the CPU accelerator.</summary>
    public static readonly string[] TinyTrain =
    [
        "train", "--train-limit", "192", "--test-limit", "48", "--batch-size", "32", "--hidden", "24",
        "--latent", "3", "--device", "cpu",
    ];

    /// <summary>
    /// The command line as a process of its own: the dotnet host, then the arguments that run IlgpuVae.Cli.dll beside
    /// the tests with the test assembly's runtime and dependency files, then <paramref name="args"/>.
    /// </summary>
    public static (string Dotnet, string[] Arguments) ChildCommand(params string[] args)
    {
        string dir = AppContext.BaseDirectory, tests = Path.Combine(dir, "IlgpuVae.Tests");
        string dotnet = Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        return (dotnet, ["exec", "--runtimeconfig", tests + ".runtimeconfig.json", "--depsfile", tests + ".deps.json",
            Path.Combine(dir, "IlgpuVae.Cli.dll"), .. args]);
    }

    public static (int Exit, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = IlgpuVae.Cli.Program.Run(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>
    /// The command line in a process of its own (<see cref="ChildCommand"/>), waited for. Where a device compiles its
    /// kernels through a driver that caches them by their source (PoCL), this is what a user's run costs: ILGPU numbers
    /// its types per process, so a second device in one process writes other OpenCL C and is compiled from scratch.
    /// </summary>
    public static (int Exit, string Output, string Error) RunProcess(params string[] args) => RunProcessIn(null, null, args);

    /// <summary>
    /// <see cref="RunProcess"/> in <paramref name="folder"/> (null: this process's), killed after <paramref name="timeout"/>
    /// (null: none), which is then reported as exit −1 with the reason on standard error.
    /// </summary>
    public static (int Exit, string Output, string Error) RunProcessIn(string? folder, TimeSpan? timeout, params string[] args)
    {
        var (dotnet, arguments) = ChildCommand(args);
        var start = new System.Diagnostics.ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (folder is not null) start.WorkingDirectory = folder;
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(timeout ?? Timeout.InfiniteTimeSpan))
        {
            process.Kill(entireProcessTree: true);
            return (-1, output, $"timed out after {timeout}.");
        }
        return (process.ExitCode, output, error.Result);
    }

    /// <summary>
    /// A command for <paramref name="device"/>: in this process on the CPU; elsewhere (the OpenCL device) in a process of
    /// its own (<see cref="RunProcess"/>), so the driver's cache of compiled kernels applies as in a user's run.
    /// </summary>
    public static (int Exit, string Output, string Error) RunOn(string device, params string[] args) =>
        device == TestDevices.Cpu ? Run(args) : RunProcess(args);

    /// <summary>
    /// <see cref="TinyTrain"/> into <paramref name="outFolder"/>, an option in <paramref name="extra"/> replacing its default
    /// (--replicas replacing --device, which it excludes).
    /// </summary>
    public static (int Exit, string Output, string Error) Train(string outFolder, params string[] extra) => Run(TrainArguments(outFolder, extra));

    /// <summary>The arguments of <see cref="Train"/>.</summary>
    public static string[] TrainArguments(string outFolder, params string[] extra)
    {
        var args = new List<string>();
        for (int i = 0; i < TinyTrain.Length; i++)
        {
            // Skip an option (and its value) that extra gives, or one that extra's replaces (--replicas, --device).
            if (TinyTrain[i].StartsWith("--") && (extra.Contains(TinyTrain[i]) || (TinyTrain[i] == "--device" && extra.Contains("--replicas")))) i++;
            else args.Add(TinyTrain[i]);
        }
        return [.. args, "--out", outFolder, .. extra];
    }
}
