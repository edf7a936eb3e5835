using IlgpuVae.Tests.Infrastructure;
using IlgpuVae.Verification;

namespace IlgpuVae.Tests.Golden;

/// <summary>
/// Every fixture of the repository (tests/golden, written by its make_fixtures.py) and of the golden folder
/// (<see cref="GoldenFolders"/>: $GOLDEN_DIR or ../shared/golden, whatever its architectures), on every accelerator and
/// with the GPU kernels in every launch shape (on the CPU accelerator and on the OpenCL device): the forward values,
/// the four loss terms and every parameter's gradient match PyTorch's float64 autograd to 1e-4 (norm-wise).
/// </summary>
public sealed class GoldenParityTests
{
    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var source in new[] { GoldenFolders.Golden, GoldenFolders.Repository })
            foreach (var fixture in GoldenFolders.CaseNames(source))
                foreach (var device in GoldenFolders.Files(source).Length > 0 ? TestDevices.NamesWithGpuShapes : [TestDevices.Cpu])
                    data.Add(source, fixture, device);
        return data;
    }

    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string source, string fixture, string device)
    {
        var path = GoldenFolders.FixturePath(source, fixture);
        Assert.True(File.Exists(path), $"No golden fixture: {fixture}. The folder {GoldenFolders.Folder(source)} must hold *.json fixtures (golden/README.md).");
        var differences = GoldenCheck.Run(GoldenFixture.Load(path), TestDevices.Get(device));
        Assert.True(differences.Count > 8, "the comparison covered too little");
        var failures = differences.Where(d => !(d.RelativeError <= GoldenCheck.Tolerance)).ToList();
        Assert.True(failures.Count == 0, string.Join("; ", failures.Select(d => $"{d.Quantity}: relative error {d.RelativeError:E3}")));
    }
}
