using IlgpuVae.Compute;

namespace IlgpuVae.Tests.Infrastructure;

/// <summary>What some cases need beyond the .NET SDK.</summary>
public enum Prerequisite
{
    /// <summary>NVIDIA's PTX assembler (scripts/install-gpu-compilers.sh).</summary>
    Ptxas,

    /// <summary>clang 15 or newer for OpenCL C (scripts/install-gpu-compilers.sh).</summary>
    Clang,

    /// <summary>MPICH's mpiexec (scripts/install-mpich.sh).</summary>
    Mpiexec,

    /// <summary>An OpenCL device that ILGPU accepts (scripts/opencl-root.sh, scripts/opencl-tests.sh).</summary>
    OpenCl,

    /// <summary>Fashion-MNIST's IDX files where the data loader looks (Debian's dataset-fashion-mnist), which the docs' runnable commands train on.</summary>
    FashionMnist,

    /// <summary>Debian's /usr/bin/python3 with numpy and scikit-learn (apt-get install python3-numpy python3-sklearn).</summary>
    Sklearn,
}

/// <summary>
/// Where a case's prerequisite is missing, the case is skipped, with one line saying what enables it — so that
/// `dotnet test` passes on a machine that has only the SDK. CI installs every prerequisite and names them in
/// ILGPUVAE_REQUIRE (a comma-separated list of ptxas, clang, mpiexec, opencl, fashionmnist, sklearn, or "all"): a required one is never
/// skipped, so its absence fails the cases that need it instead of passing unseen.
/// </summary>
public static class Prerequisites
{
    public const string Variable = "ILGPUVAE_REQUIRE";

    /// <summary>Why the cases needing <paramref name="prerequisite"/> are skipped, or null when they run.</summary>
    public static string? SkipReason(Prerequisite prerequisite) =>
        Required(prerequisite) ? null : MissingReason(prerequisite);

    /// <summary>What is missing and how to get it, or null when <paramref name="prerequisite"/> is present.</summary>
    public static string? MissingReason(Prerequisite prerequisite) => prerequisite switch
    {
        Prerequisite.Ptxas => GpuCompilation.FindPtxas() is null
            ? "ptxas is not installed: run scripts/install-gpu-compilers.sh (as root) or set PTXAS to enable the PTX assembly cases." : null,
        Prerequisite.Clang => GpuCompilation.FindClang() is null
            ? "clang is not installed: run scripts/install-gpu-compilers.sh (as root) or set CLANG_OPENCL to enable the OpenCL C cases." : null,
        Prerequisite.Mpiexec => Mpiexec is null
            ? "mpiexec is not on PATH: run scripts/install-mpich.sh (as root) to enable the cases across processes." : null,
        Prerequisite.OpenCl => TestDevices.OpenClSkipReason,
        Prerequisite.FashionMnist => FashionMnistMissing(),
        Prerequisite.Sklearn => HasSklearn.Value ? null
            : "/usr/bin/python3 with numpy and scikit-learn is not installed: apt-get install python3-numpy python3-sklearn to enable the cross-check against Python.",
        _ => throw new ArgumentOutOfRangeException(nameof(prerequisite), prerequisite, null),
    };

    /// <summary>Whether ILGPUVAE_REQUIRE names <paramref name="prerequisite"/> (or "all").</summary>
    public static bool Required(Prerequisite prerequisite) =>
        (Environment.GetEnvironmentVariable(Variable) ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Any(name => name.Equals("all", StringComparison.OrdinalIgnoreCase) || name.Equals(prerequisite.ToString(), StringComparison.OrdinalIgnoreCase));

    /// <summary>Why the docs' commands on Fashion-MNIST cannot run here, or null when they can.</summary>
    static string? FashionMnistMissing() =>
        IlgpuVae.Data.DataSources.StandardFiles.All(f => File.Exists(Path.Combine(FashionMnistFolder, f)) || File.Exists(Path.Combine(FashionMnistFolder, f + ".gz")))
            ? null : $"Fashion-MNIST is not in {FashionMnistFolder}: apt-get install dataset-fashion-mnist (as root) to run the docs' commands.";

    /// <summary>Where Debian's dataset-fashion-mnist puts the files, one of the places the data loader looks.</summary>
    const string FashionMnistFolder = "/usr/share/datasets/fashion-mnist";
    /// <summary>The Python the disentanglement cross-check runs (Debian's, with its numpy and scikit-learn).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>Whether <see cref="Python"/> imports numpy, scipy and scikit-learn.</summary>
    static readonly Lazy<bool> HasSklearn = new(() =>
    {
        if (!File.Exists(Python)) return false;
        try
        {
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(Python, ["-c", "import numpy, scipy, sklearn"])
            {
                RedirectStandardError = true, RedirectStandardOutput = true,
            })!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    /// <summary>MPICH's mpiexec on PATH, or null.</summary>
    public static string? Mpiexec { get; } = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
        .Select(d => Path.Combine(d, "mpiexec")).FirstOrDefault(File.Exists);
}

/// <summary>A fact that is skipped, saying why, where its prerequisite is missing and not required.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NeedsFactAttribute : FactAttribute
{
    public NeedsFactAttribute(Prerequisite prerequisite) => Skip = Prerequisites.SkipReason(prerequisite);
}

/// <summary>A theory that is skipped as one case, saying why, where its prerequisite is missing and not required.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class NeedsTheoryAttribute : TheoryAttribute
{
    public NeedsTheoryAttribute(Prerequisite prerequisite) => Skip = Prerequisites.SkipReason(prerequisite);
}

/// <summary>
/// One case per prerequisite: where it is missing (and not required) the case is skipped, its name saying what enables
/// the cases that need it — for the OpenCL device, how many cases that is, since those are left out rather than each
/// listed as skipped. Where it is present, or required, the case checks that it is there.
/// </summary>
public sealed class PrerequisiteTests
{
    public static TheoryData<string> Rows()
    {
        var data = new TheoryData<string>();
        foreach (var p in Enum.GetValues<Prerequisite>())
            data.Add(Prerequisites.SkipReason(p) is null ? p.ToString() : SkippedRow.Reason(Short(p)));
        return data;
    }

    /// <summary>What enables the cases, short enough for a test's name (xunit cuts an argument at 50 characters).</summary>
    static string Short(Prerequisite p) => p switch
    {
        Prerequisite.Ptxas => "ptxas: scripts/install-gpu-compilers.sh",
        Prerequisite.Clang => "clang: scripts/install-gpu-compilers.sh",
        Prerequisite.Mpiexec => "mpiexec: scripts/install-mpich.sh",
        Prerequisite.FashionMnist => "docs' commands: dataset-fashion-mnist",
        Prerequisite.Sklearn => "sklearn: apt-get install python3-sklearn",
        _ => $"{OpenClRows()} OpenCL cases need an OpenCL device",
    };

    [DeviceTheory]
    [MemberData(nameof(Rows))]
    public void IsHere(string prerequisite) => Assert.Null(Prerequisites.MissingReason(Enum.Parse<Prerequisite>(prerequisite)));

    /// <summary>The OpenCL rows of every device theory in this assembly.</summary>
    static int OpenClRows() => typeof(PrerequisiteTests).Assembly.GetTypes()
        .Where(t => t != typeof(PrerequisiteTests))
        .SelectMany(t => t.GetMethods())
        .Where(m => m.GetCustomAttributes(typeof(DeviceTheoryAttribute), false).Length > 0)
        .SelectMany(DeviceTheoryDiscoverer.Rows)
        .Count(DeviceTheoryDiscoverer.IsOpenClRow);
}
