using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// The two kernels a conditional PixelCNN adds, against double-precision references on every accelerator and GPU
/// launch shape: the product's per-image bias epilogue, C = act(A·B + aux[m / pixels, n]), with every activation
/// (vector and scalar epilogues, tile edges inside an image's rows), and the per-image sums of a channels-last map
/// (one or several column blocks per group, widths on and off a vector's).
/// </summary>
public sealed class PixelCnnKernelTests
{
    static readonly (int Images, int Pixels, int Width)[] SumShapes = [(1, 1, 1), (2, 35, 3), (3, 7, 40), (2, 20, 300), (5, 9, 17), (4, 64, 16)];

    static readonly (int Images, int Pixels, int K, int N)[] ProductShapes = [(2, 35, 12, 5), (3, 7, 33, 40), (1, 64, 9, 17), (5, 13, 20, 32), (2, 70, 15, 66)];

    public static TheoryData<string, int> SumCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var device in TestDevices.NamesWithGpuShapes)
            for (int s = 0; s < SumShapes.Length; s++) data.Add(device, s);
        return data;
    }

    public static TheoryData<string, int, Activation> ProductCases()
    {
        var data = new TheoryData<string, int, Activation>();
        foreach (var device in TestDevices.NamesWithGpuShapes)
            for (int s = 0; s < ProductShapes.Length; s++)
                foreach (var a in Enum.GetValues<Activation>())
                    data.Add(device, s, a);
        return data;
    }

    [DeviceTheory]
    [MemberData(nameof(SumCases))]
    public void ImageSumsMatchTheReference(string device, int shape)
    {
        var (images, pixels, width) = SumShapes[shape];
        var values = TestData.Uniform(new Random(shape + 7), images * pixels * width);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var sums = d.Floats(images * width);
        d.Device.Kernels.ImageSums(images, pixels, width, d.Upload(values), sums);
        var want = new double[images * width];
        for (int b = 0; b < images; b++)
            for (int p = 0; p < pixels; p++)
                for (int n = 0; n < width; n++)
                    want[b * width + n] += values[(b * pixels + p) * width + n];
        Tolerance.AssertClose(DeviceArrays.Download(sums), want, 1e-6, $"{images}×{pixels}×{width}");
    }

    [DeviceTheory]
    [MemberData(nameof(ProductCases))]
    public void TheImageBiasEpilogueAddsEachImagesBiasBeforeTheActivation(string device, int shape, Activation activation)
    {
        var (images, pixels, k, n) = ProductShapes[shape];
        int m = images * pixels;
        var random = new Random(shape * 10 + (int)activation);
        float[] a = TestData.Uniform(random, m * k), b = TestData.Uniform(random, k * n), bias = TestData.Uniform(random, images * n, -2, 2);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var c = d.Floats(m * n);
        // B row-major [K, N], as a masked conv's forward reads its weight [taps, out].
        var p = new GemmProblem
        {
            M = m, N = n, K = k, ARow = k, ACol = 1, BRow = n, BCol = 1,
            Activation = (int)activation, Epilogue = (int)Epilogue.ImageBiasActivation, RowsPerImage = pixels,
        };
        d.Device.Kernels.ProductPair(p, d.Upload(a), d.Upload(b), c, d.Upload(bias), default, null, default, default, default, default);
        var want = new double[m * n];
        for (int row = 0; row < m; row++)
            for (int col = 0; col < n; col++)
            {
                double sum = bias[row / pixels * n + col];
                for (int t = 0; t < k; t++) sum += (double)a[row * k + t] * b[t * n + col];
                want[row * n + col] = Reference.Act(sum, activation);
            }
        Tolerance.AssertClose(DeviceArrays.Download(c), want, 1e-6, $"{activation} {images}×{pixels} rows, {k}→{n}");
    }
}
