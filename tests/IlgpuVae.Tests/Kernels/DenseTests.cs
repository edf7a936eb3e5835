using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;
using MathNet.Numerics.LinearAlgebra;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// The dense kernels against MathNet.Numerics in double, and the backward kernels against finite differences
/// of the forward kernel, on every accelerator and with the GPU kernels on the CPU accelerator too. The shapes
/// fall below, above and across the GPU kernels' block tiles (8×8 and 16×16 on the small shape, 64×64 on the
/// GPU's: full and edge tiles, several slabs of k) and the vector kernels' 4-row tiles, 4-column and 2-vector
/// widths, and whole and partial vectors along k.
/// </summary>
public sealed class DenseTests
{
    /// <summary>
    /// The last <see cref="WideShapes"/> are wide enough for the CPU kernel's column bands (the forward and dX of
    /// 8×600→300, dW of 300×512→8: <see cref="SimdGemm.SplitsColumns"/>); they run on the CPU kernel only, as the
    /// GPU kernels' barriers on the CPU accelerator would take minutes over them.
    /// </summary>
    static readonly (int B, int In, int Out)[] Shapes =
        [(1, 1, 1), (5, 7, 3), (8, 8, 8), (19, 13, 21), (17, 33, 9), (3, 40, 16), (12, 20, 28), (4, 36, 8), (12, 18, 8), (9, 72, 40), (70, 33, 66),
         (8, 600, 300), (300, 512, 8)];

    const int WideShapes = 2;

    public static TheoryData<string, int, Activation> Cases()
    {
        var data = new TheoryData<string, int, Activation>();
        foreach (var device in TestDevices.NamesWithGpuShapes)
            for (int s = 0; s < Shapes.Length; s++)
                foreach (var a in Enum.GetValues<Activation>())
                    if (s < Shapes.Length - WideShapes || device == "cpu")
                        data.Add(device, s, a);
        return data;
    }

    static Matrix<double> M(float[] v, int rows, int cols) => Matrix<double>.Build.Dense(rows, cols, (r, c) => v[r * cols + c]);

    static double[] RowMajor(Matrix<double> m) => Enumerable.Range(0, m.RowCount * m.ColumnCount).Select(i => m[i / m.ColumnCount, i % m.ColumnCount]).ToArray();

    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void ForwardMatchesReference(string device, int shape, Activation activation)
    {
        var (b, n, o) = Shapes[shape];
        var random = new Random(shape * 10 + (int)activation);
        float[] x = TestData.Uniform(random, b * n), w = TestData.Uniform(random, o * n), bias = TestData.Uniform(random, o);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var y = d.Floats(b * o);
        d.Device.Kernels.DenseForward(b, n, o, activation, d.Upload(x), d.Upload(w), d.Upload(bias), y);

        var pre = M(x, b, n) * M(w, o, n).Transpose() + Matrix<double>.Build.Dense(b, o, (_, c) => bias[c]);
        var want = RowMajor(pre).Select(v => Reference.Act(v, activation)).ToArray();
        Tolerance.AssertClose(DeviceArrays.Download(y), want, 1e-6, $"{activation} {b}×{n}→{o}");
    }

    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void BackwardMatchesReference(string device, int shape, Activation previous)
    {
        var (b, n, o) = Shapes[shape];
        var random = new Random(shape * 10 + (int)previous + 100);
        float[] dPre = TestData.Uniform(random, b * o), w = TestData.Uniform(random, o * n);
        // x is the previous layer's output, so it lies in that activation's range.
        float[] x = TestData.Uniform(random, b * n).Select(v => (float)Reference.Act(2 * v, previous)).ToArray();
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (dx, dw, db) = (d.Floats(b * n), d.Floats(o * n), d.Floats(o));
        d.Device.Kernels.DenseBackward(b, n, o, previous, false, d.Upload(dPre), d.Upload(x), d.Upload(w), dw, db, dx);

        var wantDx = RowMajor(M(dPre, b, o) * M(w, o, n)).Select((v, i) => v * Reference.ActGradFromOutput(x[i], previous)).ToArray();
        Tolerance.AssertClose(DeviceArrays.Download(dx), wantDx, 1e-6, "dx");
        Tolerance.AssertClose(DeviceArrays.Download(dw), RowMajor(M(dPre, b, o).Transpose() * M(x, b, n)), 1e-6, "dW");
        Tolerance.AssertClose(DeviceArrays.Download(db), RowMajor(M(dPre, b, o).Transpose() * Matrix<double>.Build.Dense(b, 1, 1.0)), 1e-6, "db");
    }

    /// <summary>The first layer's backward computes no input gradient, and writes nothing there.</summary>
    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void BackwardWithoutAnInputGradientLeavesItAlone(string device)
    {
        var random = new Random(8);
        const int b = 6, n = 9, o = 5;
        float[] dPre = TestData.Uniform(random, b * o), x = TestData.Uniform(random, b * n), w = TestData.Uniform(random, o * n);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (dw, db) = (d.Floats(o * n), d.Floats(o));
        d.Device.Kernels.DenseBackward(b, n, o, Activation.Identity, false, d.Upload(dPre), d.Upload(x), d.Upload(w), dw, db, null);
        Tolerance.AssertClose(DeviceArrays.Download(dw), RowMajor(M(dPre, b, o).Transpose() * M(x, b, n)), 1e-6, "dW");
        Tolerance.AssertClose(DeviceArrays.Download(db), RowMajor(M(dPre, b, o).Transpose() * Matrix<double>.Build.Dense(b, 1, 1.0)), 1e-6, "db");
    }

    public static TheoryData<string> Devices => TestDevices.AllWithGpuShapes;

    /// <summary>
    /// Two layers, tanh then identity, L = Σ r ⊙ y₂: the backward kernels' gradients for W₁, b₁ and x, dotted with
    /// a random direction, against central differences of L computed by the forward kernels in float.
    /// </summary>
    [DeviceTheory]
    [MemberData(nameof(DevicesAndLayerSizes))]
    public void BackwardMatchesFiniteDifferencesOfForward(string device, int b, int n, int h, int o)
    {
        var random = new Random(42);
        float[] x = TestData.Uniform(random, b * n), w1 = TestData.Uniform(random, h * n), b1 = TestData.Uniform(random, h);
        float[] w2 = TestData.Uniform(random, o * h), b2 = TestData.Uniform(random, o), r = TestData.Uniform(random, b * o);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var k = d.Device.Kernels;
        var (y1, y2) = (d.Floats(b * h), d.Floats(b * o));
        var (w2v, b2v) = (d.Upload(w2), d.Upload(b2));

        double Loss(float[] xs, float[] w1s, float[] b1s)
        {
            k.DenseForward(b, n, h, Activation.Tanh, d.Upload(xs), d.Upload(w1s), d.Upload(b1s), y1);
            k.DenseForward(b, h, o, Activation.Identity, y1, w2v, b2v, y2);
            return DeviceArrays.Download(y2).Zip(r, (a, c) => (double)a * c).Sum();
        }

        Loss(x, w1, b1);
        var (dPre1, dx, dw1, db1, dw2, db2) = (d.Floats(b * h), d.Floats(b * n), d.Floats(h * n), d.Floats(h), d.Floats(o * h), d.Floats(o));
        k.DenseBackward(b, h, o, Activation.Tanh, false, d.Upload(r), y1, w2v, dw2, db2, dPre1);
        k.DenseBackward(b, n, h, Activation.Identity, false, dPre1, d.Upload(x), d.Upload(w1), dw1, db1, dx);

        var (vx, vw, vb) = (TestData.Normal(random, x.Length), TestData.Normal(random, w1.Length), TestData.Normal(random, b1.Length));
        double analytic = Dot(DeviceArrays.Download(dx), vx) + Dot(DeviceArrays.Download(dw1), vw) + Dot(DeviceArrays.Download(db1), vb);
        const float step = 2e-3f;
        float[] Shift(float[] a, float[] v, float s) => a.Select((t, i) => t + s * v[i]).ToArray();
        double numeric = (Loss(Shift(x, vx, step), Shift(w1, vw, step), Shift(b1, vb, step)) -
                          Loss(Shift(x, vx, -step), Shift(w1, vw, -step), Shift(b1, vb, -step))) / (2 * step);
        Tolerance.AssertNear(numeric, analytic, 1e-2, 1e-3, "directional derivative");
    }

    static double Dot(float[] a, float[] b) => a.Zip(b, (p, q) => (double)p * q).Sum();

    /// <summary>Sizes off every tile, and sizes with whole tiles and vectors.</summary>
    public static TheoryData<string, int, int, int, int> DevicesAndLayerSizes()
    {
        var data = new TheoryData<string, int, int, int, int>();
        foreach (var device in TestDevices.NamesWithGpuShapes)
        {
            data.Add(device, 6, 11, 9, 5);
            data.Add(device, 8, 16, 32, 4);
        }
        return data;
    }

    [Fact]
    public void CpuAcceleratorRunsTheVectorProductsUnlessThePortableOnesAreAskedFor()
    {
        Assert.IsType<IlgpuVae.Compute.CpuKernels>(TestDevices.Get("cpu").Kernels);
        Assert.IsType<IlgpuVae.Compute.GpuKernels>(TestDevices.Get(TestDevices.PortableCpu).Kernels);
        var shape = ((IlgpuVae.Compute.GpuKernels)TestDevices.Get(TestDevices.PortableCpu).Kernels).Shape;
        Assert.Equal(16, shape.GemmSide);       // a GPU's 16×16 groups and 64×64 tiles
        Assert.Equal(256, shape.ReductionGroup);
    }

    [Fact]
    public void NarrowTilesAreUsedWhenWideOnesLeaveMultiprocessorsIdle()
    {
        var shape = new IlgpuVae.Compute.GpuLaunchShape(16, 8, 256, 256, 0, Multiprocessors: 132, SharedBytes: 48 * 1024);
        Assert.Equal(8, shape.SideFor(s => TiledGemm.Tiles(Dense.ForwardProblem(128, 784, 400, Activation.Relu), s)));   // 14 wide tiles
        Assert.Equal(16, shape.SideFor(s => TiledGemm.Tiles(Dense.ForwardProblem(4096, 784, 400, Activation.Relu), s))); // 448
        // The MMD's tiles get 32 KB (SharedScratch.MmdDoubles): 3·block·k + 2·block² doubles.
        Assert.Equal(32, shape.MmdBlockFor(21));
        Assert.Equal(16, shape.MmdBlockFor(22));
        Assert.Equal(8, shape.MmdBlockFor(100));
    }

    [Fact]
    public void VectorProductSplitsRowsInBandsOfFourAmongAtMostTheHardwareThreads()
    {
        Assert.Equal(1, SimdGemm.Threads(Dense.ForwardProblem(3, 10, 10, Activation.Relu), 16));   // one band
        Assert.Equal(2, SimdGemm.Threads(Dense.ForwardProblem(5, 10, 10, Activation.Relu), 16));   // 4 + 1 rows
        Assert.Equal(16, SimdGemm.Threads(Dense.ForwardProblem(128, 10, 10, Activation.Relu), 16));
        Assert.Equal(2, SimdGemm.Threads(Dense.BackwardWeightProblem(128, 784, 400), 2));          // M = 400 outputs
    }

    [Fact]
    public void VectorProductSplitsColumnsWhereRowBandsWouldEachStreamAllOfALargeB()
    {
        var convWeight = Dense.BackwardWeightProblem(6272, 512, 64);                  // 64 × 512 over 6272 positions
        Assert.True(SimdGemm.SplitsColumns(convWeight, 2));
        Assert.False(SimdGemm.SplitsColumns(convWeight, 1));                          // one thread: nothing to split
        Assert.False(SimdGemm.SplitsColumns(Dense.BackwardWeightProblem(128, 784, 400), 2)); // B = x is 400 KB
        Assert.False(SimdGemm.SplitsColumns(Dense.ForwardProblem(6272, 512, 64, Activation.Relu), 2)); // more rows than columns
        var columns = convWeight with { ColumnBands = 1, Threads = SimdGemm.Threads(convWeight with { ColumnBands = 1 }, 2) };
        Assert.Equal(2, columns.Threads);
        Assert.Equal((0, 64, 0, 256), SimdGemm.Band(0, columns));
        Assert.Equal((0, 64, 256, 512), SimdGemm.Band(1, columns));
    }
}
