using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// <see cref="SimdGemm.ProductBlock"/> called directly on CPU-accelerator buffers (it is plain .NET code), for
/// every storage order of A and B with offsets into their buffers — the two vector micro-kernels and the
/// scalar loop for the layout neither takes — against a double-precision product, in bands of rows or of columns;
/// and <see cref="SimdGemm.Product{V}"/> at each vector width with each tile height, whichever this processor's
/// products use (a 4-row tile is what a processor without AVX-512 runs).
/// </summary>
public sealed class SimdGemmTests
{
    static readonly (int M, int N, int K)[] Shapes = [(1, 1, 1), (7, 19, 9), (13, 40, 35), (8, 16, 24), (5, 70, 12), (9, 100, 50), (262, 72, 33), (21, 113, 70)];

    public static TheoryData<bool, bool, int, int, int, bool> Layouts()
    {
        var data = new TheoryData<bool, bool, int, int, int, bool>();
        foreach (bool aRowMajor in new[] { true, false })
            foreach (bool bRowMajor in new[] { true, false })
                foreach (var (m, n, k) in Shapes)
                    foreach (bool columnBands in new[] { false, true })
                        data.Add(aRowMajor, bRowMajor, m, n, k, columnBands);
        return data;
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void ProductBlockMatchesTheDoubleProductInEveryLayout(bool aRowMajor, bool bRowMajor, int m, int n, int k, bool columnBands)
    {
        var p = Problem(aRowMajor, bRowMajor, m, n, k);
        var (a, b) = Operands(p);
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

        Tolerance.AssertClose(DeviceArrays.Download(c), Want(p, a, b), 1e-6, $"A {(aRowMajor ? "rows" : "columns")}, B {(bRowMajor ? "rows" : "columns")}, {m}×{k}·{k}×{n}");
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void EveryVectorWidthAndTileMatchesTheDoubleProduct(bool wide, bool eightRows)
    {
        foreach (bool aRowMajor in new[] { true, false })
            foreach (bool bRowMajor in new[] { true, false })
                foreach (var (m, n, k) in Shapes)
                    foreach (bool add in new[] { false, true })
                    {
                        var p = Problem(aRowMajor, bRowMajor, m, n, k);
                        if (add) p.Epilogue = (int)Epilogue.Accumulate;
                        var (a, b) = Operands(p);
                        var c = Enumerable.Range(0, m * n).Select(i => add ? 0.25f * (i % 7) : float.NaN).ToArray();
                        var want = Want(p, a, b).Select((v, i) => add ? v + 0.25f * (i % 7) : v).ToArray();
                        ref float x = ref System.Runtime.CompilerServices.Unsafe.NullRef<float>();
                        if (wide) SimdGemm.Product<Lanes512>(p, 0, m, 0, n, ref a[0], ref b[0], ref c[0], ref x, eightRows);
                        else SimdGemm.Product<VectorLanes>(p, 0, m, 0, n, ref a[0], ref b[0], ref c[0], ref x, eightRows);
                        Tolerance.AssertClose(c, want, 1e-6, $"{(wide ? 512 : 32 * System.Numerics.Vector<float>.Count)} bits, {(eightRows ? 8 : 4)}-row tiles, A {(aRowMajor ? "rows" : "columns")}, B {(bRowMajor ? "rows" : "columns")}, {m}×{k}·{k}×{n}, add {add}");
                    }
    }

    static GemmProblem Problem(bool aRowMajor, bool bRowMajor, int m, int n, int k) => new()
    {
        M = m, N = n, K = k,
        AOffset = 3, ARow = aRowMajor ? k : 1, ACol = aRowMajor ? 1 : m,
        BOffset = 5, BRow = bRowMajor ? n : 1, BCol = bRowMajor ? 1 : k,
    };

    static (float[] A, float[] B) Operands(GemmProblem p)
    {
        var random = new Random(p.M * 1000 + p.N * 10 + p.K);
        return (TestData.Uniform(random, p.AOffset + p.M * p.K), TestData.Uniform(random, p.BOffset + p.K * p.N));
    }

    static double[] Want(GemmProblem p, float[] a, float[] b)
    {
        var want = new double[p.M * p.N];
        for (int i = 0; i < p.M; i++)
            for (int j = 0; j < p.N; j++)
                for (int t = 0; t < p.K; t++)
                    want[i * p.N + j] += (double)a[p.AOffset + i * p.ARow + t * p.ACol] * b[p.BOffset + t * p.BRow + j * p.BCol];
        return want;
    }
}
