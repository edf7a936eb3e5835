using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>Batches gathered on the device through the order list, with and without dynamic binarization.</summary>
public sealed class GatherTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void CopiesTheRowsTheOrderNames(string device)
    {
        const int rows = 10, dim = 7;
        var data = Enumerable.Range(0, rows * dim).Select(i => i / 100f).ToArray();
        int[] order = [3, 9, 0, 4, 4, 1, 8, 2, 5, 6];
        using var d = new DeviceArrays(TestDevices.Get(device));
        var batch = d.Floats(4 * dim);
        d.Device.Kernels.Gather(new GatherProblem { Rows = 4, Dim = dim, Start = 2 }, d.Upload(data), d.Upload(order), batch);
        var want = order[2..6].SelectMany(r => data[(r * dim)..((r + 1) * dim)]).ToArray();
        Assert.Equal(want, DeviceArrays.Download(batch));
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void BinarizationDrawsBernoulliPixels(string device)
    {
        const int rows = 50, dim = 200;
        var data = Enumerable.Range(0, rows * dim).Select(i => i % 2 == 0 ? 0.2f : 0.9f).ToArray();
        using var d = new DeviceArrays(TestDevices.Get(device));
        var batch = d.Floats(rows * dim);
        d.Device.Kernels.Gather(new GatherProblem { Rows = rows, Dim = dim, Binarize = 1, Key = 77 },
            d.Upload(data), d.Upload(Enumerable.Range(0, rows).ToArray()), batch);
        var x = DeviceArrays.Download(batch);
        Assert.All(x, v => Assert.True(v is 0f or 1f));
        // 5,000 draws each: standard error 0.006 and 0.004.
        Assert.InRange(x.Where((_, i) => i % 2 == 0).Average(), 0.17, 0.23);
        Assert.InRange(x.Where((_, i) => i % 2 == 1).Average(), 0.88, 0.92);
    }
}
