using System.Text.Json;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Golden;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Cli;

/// <summary>The commands meant for machines without the SDK: `bench` and `golden`.</summary>
public sealed class BenchAndGoldenCommandTests
{
    [Fact]
    public void BenchPrintsATableAndWritesJson()
    {
        using var temp = new TempFolder();
        var (exit, output, error) = CliRunner.Run("bench", "--device", "cpu", "--batch-sizes", "8,16",
            "--steps", "2", "--warmup", "0", "--hidden", "16", "--latent", "2", "--out", temp.Path);
        Assert.True(exit == 0, error + output);
        Assert.Contains("images/s", output);
        var rows = JsonDocument.Parse(File.ReadAllText(temp.File("bench.json"))).RootElement;
        Assert.Equal(2, rows.GetArrayLength());
        Assert.Equal(16, rows[1].GetProperty("batch_size").GetInt32());
        Assert.Equal("fastest", rows[1].GetProperty("kernels").GetString());
        Assert.All(Enumerable.Range(0, 2), i => Assert.True(rows[i].GetProperty("images_per_second").GetDouble() > 0));
    }

    /// <summary>The GPU kernels with a GPU's launch shapes, on the CPU accelerator (slow there: one tiny measurement).</summary>
    [Fact]
    public void BenchMeasuresThePortableKernelsOnTheCpu()
    {
        using var temp = new TempFolder();
        var (exit, output, error) = CliRunner.Run("bench", "--device", "cpu", "--kernels", "portable", "--batch-sizes", "4",
            "--steps", "1", "--warmup", "0", "--hidden", "8", "--latent", "2", "--out", temp.Path);
        Assert.True(exit == 0, error + output);
        var row = JsonDocument.Parse(File.ReadAllText(temp.File("bench.json"))).RootElement[0];
        Assert.Equal("portable", row.GetProperty("kernels").GetString());
        Assert.True(row.GetProperty("images_per_second").GetDouble() > 0);
        // The products run slowly here: the table shows them with significant digits, never as 0.0.
        var columns = output.Split('\n').Single(l => l.StartsWith("cpu") && l.Contains("portable")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(double.Parse(columns[8], System.Globalization.CultureInfo.InvariantCulture) > 0, string.Join(" ", columns));
        Assert.True(double.Parse(columns[9], System.Globalization.CultureInfo.InvariantCulture) > 0, string.Join(" ", columns));
    }

    [Theory]
    [InlineData(0.0031234, "0.00312")]
    [InlineData(2.345, "2.35")]
    [InlineData(150.53, "150.5")]
    [InlineData(0, "0.0")]
    public void BenchFiguresKeepThreeSignificantDigitsBelowTen(double value, string shown) =>
        Assert.Equal(shown, IlgpuVae.Cli.Commands.BenchCommand.Figure(value));

    [Fact]
    public void BenchRefusesAnUnknownKernelChoice()
    {
        using var temp = new TempFolder();
        var (exit, _, error) = CliRunner.Run("bench", "--device", "cpu", "--kernels", "turbo", "--out", temp.Path);
        Assert.Equal(1, exit);
        Assert.Contains("--kernels takes fastest or portable", error);
        Assert.Contains("'turbo'", error);
        Assert.False(File.Exists(temp.File("bench.json")));
    }

    /// <summary>Both fixture folders (<see cref="GoldenFolders"/>), or the skipped row that names an absent golden folder.</summary>
    public static TheoryData<string> Sources() =>
        [GoldenFolders.Repository, GoldenFolders.CaseNames(GoldenFolders.Golden) is [var absent] && absent.StartsWith(SkippedRow.Prefix) ? absent : GoldenFolders.Golden];

    [DeviceTheory]
    [MemberData(nameof(Sources))]
    public void GoldenPassesTheFixturesOnTheCpu(string source)
    {
        var (exit, output, error) = CliRunner.Run("golden", GoldenFolders.Folder(source), "--device", "cpu");
        Assert.True(exit == 0, error + output);
        Assert.Contains(" 0 failed", output);
    }

    [DeviceTheory]
    [MemberData(nameof(Sources))]
    public void GoldenRunsTheGpuKernelsOnTheCpuWithKernelsPortable(string source)
    {
        var (exit, output, error) = CliRunner.Run("golden", GoldenFolders.Folder(source), "--device", "cpu", "--kernels", "portable");
        Assert.True(exit == 0, error + output);
        Assert.Contains("GPU kernels", output);
        Assert.Contains(" 0 failed", output);
    }

    [Fact]
    public void GoldenOfAnEmptyFolderFails()
    {
        using var temp = new TempFolder();
        var (exit, _, error) = CliRunner.Run("golden", temp.Path);
        Assert.Equal(1, exit);
        Assert.Contains("No *.json fixture", error);
    }
}
