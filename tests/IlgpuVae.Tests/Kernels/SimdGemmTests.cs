using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// <see cref="SimdGemm.ProductBlock"/> called directly on CPU-accelerator buffers (it is plain .NET code), for
/// every storage order of A and B with offsets into their buffers — the two vector micro-kernels and the
/// scalar loop for the layout neither takes — against a double-precision product, in bands of rows or of columns.
/// </summary>
public sealed class SimdGemmTests
{
    public static TheoryData<bool, bool, int, int, int, bool> Layouts()
    {
        var data = new TheoryData<bool, bool, int, int, int, bool>();
        foreach (bool aRowMajor in new[] { true, false })
            foreach (bool bRowMajor in new[] { true, false })
                foreach (var (m, n, k) in new[] { (1, 1, 1), (7, 19, 9), (13, 40, 35), (8, 16, 24), (5, 70, 12) })
                    foreach (bool columnBands in new[] { false, true })
                        data.Add(aRowMajor, bRowMajor, m, n, k, columnBands);
        return data;
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void ProductBlockMatchesTheDoubleProductInEveryLayout(bool aRowMajor, bool bRowMajor, int m, int n, int k, bool columnBands)
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
        // In two bands, as two threads of a launch would run them: rows, or columns (from one not on a vector's edge).
        if (columnBands)
        {
            int split = Math.Min(n, 5);
            SimdGemm.ProductBlock(p, 0, m, 0, split, aView, bView, c, default);
            if (split < n) SimdGemm.ProductBlock(p, 0, m, split, n, aView, bView, c, default);
        }
        else
        {
            int split = Math.Min(m, 4);
            SimdGemm.ProductBlock(p, 0, split, 0, n, aView, bView, c, default);
            if (split < m) SimdGemm.ProductBlock(p, split, m, 0, n, aView, bView, c, default);
        }

        var want = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int t = 0; t < k; t++)
                    want[i * n + j] += (double)a[aOffset + i * p.ARow + t * p.ACol] * b[bOffset + t * p.BRow + j * p.BCol];
        Tolerance.AssertClose(DeviceArrays.Download(c), want, 1e-6, $"A {(aRowMajor ? "rows" : "columns")}, B {(bRowMajor ? "rows" : "columns")}, {m}×{k}·{k}×{n}");
    }
}
