using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Golden;

/// <summary>
/// Where the golden fixtures are (the rule of golden/README.md): the repository's own, <c>tests/golden</c>, always
/// (none there is a failure); and the golden folder — the one <c>GOLDEN_DIR</c> names, which must then exist and
/// hold a fixture, or with <c>GOLDEN_DIR</c> unset <c>../shared/golden</c> beside the project's root where that folder
/// exists (an existing empty one fails); with neither (a fresh clone), one skipped case names the folder.
/// </summary>
internal static class GoldenFolders
{
    /// <summary>The two sources' names in the test cases.</summary>
    public const string Repository = "repository", Golden = "golden";

    /// <summary>The repository's own fixtures: tests/golden.</summary>
    public static string RepositoryFolder => Path.Combine(Root, "tests", "golden");

    /// <summary>The golden folder: $GOLDEN_DIR, else ../shared/golden beside the project's root.</summary>
    public static string GoldenFolder => IsNamed ? Path.GetFullPath(Environment.GetEnvironmentVariable("GOLDEN_DIR")!)
        : Path.GetFullPath(Path.Combine(Root, "..", "shared", "golden"));

    /// <summary>Whether GOLDEN_DIR names the golden folder (which then must exist).</summary>
    static bool IsNamed => !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("GOLDEN_DIR"));

    /// <summary>The folder of <paramref name="source"/>.</summary>
    public static string Folder(string source) => source == Repository ? RepositoryFolder : GoldenFolder;

    /// <summary>The fixture files of <paramref name="source"/>, in name order (none where the folder is absent).</summary>
    public static string[] Files(string source) =>
        Directory.Exists(Folder(source)) ? Directory.GetFiles(Folder(source), "*.json").Order().ToArray() : [];

    /// <summary>
    /// The fixture column of the test cases for <paramref name="source"/>: each file's name; or, with none, one entry that
    /// fails ("(no *.json fixture in …)") or, for an absent ../shared/golden, one that <see cref="DeviceTheoryAttribute"/> skips.
    /// </summary>
    public static IReadOnlyList<string> CaseNames(string source)
    {
        var files = Files(source);
        if (files.Length > 0) return files.Select(f => Path.GetFileName(f)).ToArray();
        if (source == Golden && !IsNamed && !Directory.Exists(GoldenFolder))
            return [SkippedRow.Reason($"No golden folder at {GoldenFolder} (a fresh clone has none): set GOLDEN_DIR to run its fixtures too.")];
        return [$"(no *.json fixture in {Folder(source)})"];
    }

    /// <summary>The fixture file of a case.</summary>
    public static string FixturePath(string source, string fixture) => Path.Combine(Folder(source), fixture);

    internal static string Root
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "IlgpuVae.sln"))) return dir.FullName;
            throw new InvalidOperationException($"No IlgpuVae.sln above {AppContext.BaseDirectory}.");
        }
    }
}
