using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// <see cref="SimdGemm.ProductRows"/> called directly on CPU-accelerator buffers (it is plain .NET code), for
/// every storage order of A and B with offsets into their buffers — the two vector micro-kernels and the
/// scalar loop for the layout neither takes — against a double-precision product, band by band.
/// </summary>
public sealed class SimdGemmTests
{
    public static TheoryData<bool, bool, int, int, int> Layouts()
    {
        var data = new TheoryData<bool, bool, int, int, int>();
        foreach (bool aRowMajor in new[] { true, false })
            foreach (bool bRowMajor in new[] { true, false })
                foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 19, 9), (13, 40, 35), (8, 16, 24) })
                    data.Add(aRowMajor, bRowMajor, m, n, k);
        return data;
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void ProductRowsMatchesTheDoubleProductInEveryLayout(bool aRowMajor, bool bRowMajor, int m, int n, int k)
    {
        const int aOffset = 3, bOffset = 5;
        var p = new GemmProblem
        {
            M = m, N = n, K = k,
            AOffset = aOffset, ARow = aRowMajor ? k : 1, ACol = aRowMajor ? 1 : m,
            BOffset = bOffset, BRow = bRowMajor ? n : 1, BCol = bRowMajor ? 1 : k,
        };
        var random = new Random(m * 1000 + n * 10 + k);
        float[] a = TestData.Uniform(random, aOffset + m * k), b = TestData.Uniform(random, bOffset + k * n);
        using var d = new DeviceArrays(TestDevices.Get("cpu"));
        var c = d.Floats(m * n);
        var (aView, bView) = (d.Upload(a), d.Upload(b));
        // In two bands, as two threads of a launch would run them.
        int split = Math.Min(m, 4);
        SimdGemm.ProductRows(p, 0, split, 0, aView, bView, c);
        if (split < m) SimdGemm.ProductRows(p, split, m, 0, aView, bView, c);

        var want = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int t = 0; t < k; t++)
                    want[i * n + j] += (double)a[aOffset + i * p.ARow + t * p.ACol] * b[bOffset + t * p.BRow + j * p.BCol];
        Tolerance.AssertClose(DeviceArrays.Download(c), want, 1e-6, $"A {(aRowMajor ? "rows" : "columns")}, B {(bRowMajor ? "rows" : "columns")}, {m}×{k}·{k}×{n}");
    }
}
