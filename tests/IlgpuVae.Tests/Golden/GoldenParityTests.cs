using IlgpuVae.Tests.Infrastructure;
using IlgpuVae.Verification;

namespace IlgpuVae.Tests.Golden;

/// <summary>
/// Every fixture of the repository (tests/golden: the conv models, written by its make_fixtures.py) and of the
/// golden folder ($GOLDEN_DIR, whatever its architectures), on every accelerator this run can create and with
/// the GPU kernels on the CPU accelerator (<c>--kernels portable</c>: a GPU's kernels and launch shapes, and the
/// small shapes that cross tile edges): the forward values, the four loss terms and every parameter's gradient
/// match PyTorch's float64 autograd to 1e-4 (norm-wise). A folder without fixtures is a failure.
/// </summary>
public sealed class GoldenParityTests
{
    /// <summary>The folder of fixtures: $GOLDEN_DIR, else ../shared/golden beside the project's root.</summary>
    public static string Folder()
    {
        var fromEnv = Environment.GetEnvironmentVariable("GOLDEN_DIR");
        if (!string.IsNullOrWhiteSpace(fromEnv)) return Path.GetFullPath(fromEnv);
        return Path.GetFullPath(Path.Combine(Root(), "..", "shared", "golden"));
    }

    /// <summary>The repository's own fixtures: tests/golden.</summary>
    public static string RepositoryFolder() => Path.Combine(Root(), "tests", "golden");

    static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "IlgpuVae.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No IlgpuVae.sln above {AppContext.BaseDirectory}; set GOLDEN_DIR.");
    }

    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var (source, folder) in new[] { ("golden", Folder()), ("repository", RepositoryFolder()) })
        {
            var files = Directory.Exists(folder) ? Directory.GetFiles(folder, "*.json").Order().ToArray() : [];
            foreach (var file in files)
                foreach (var device in TestDevices.NamesWithGpuKernelsOnCpu)
                    data.Add(source, Path.GetFileName(file), device);
            if (files.Length == 0)
                data.Add(source, $"(no *.json fixture in {folder})", "cpu");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string source, string fixture, string device)
    {
        var path = Path.Combine(source == "golden" ? Folder() : RepositoryFolder(), fixture);
        Assert.True(File.Exists(path), $"No golden fixture: {path}. Set GOLDEN_DIR to the fixtures' folder.");
        var differences = GoldenCheck.Run(GoldenFixture.Load(path), TestDevices.Get(device));
        Assert.True(differences.Count > 8, "the comparison covered too little");
        var failures = differences.Where(d => !(d.RelativeError <= GoldenCheck.Tolerance)).ToList();
        Assert.True(failures.Count == 0, string.Join("; ", failures.Select(d => $"{d.Quantity}: relative error {d.RelativeError:E3}")));
    }
}
