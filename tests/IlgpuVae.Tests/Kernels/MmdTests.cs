using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// MMD² between codes and prior draws (M = B and M ≠ B), both kernels, both estimators, ∂/∂z, and the
/// reparameterization's backward fused into the same launch — on every accelerator and with the GPU kernels
/// (pairwise tiles: several blocks of rows and tiles of columns on the small shape) on the CPU accelerator.
/// </summary>
public sealed class MmdTests
{
    public static TheoryData<string, MmdKernel, bool, int, int> Cases()
    {
        var data = new TheoryData<string, MmdKernel, bool, int, int>();
        foreach (var device in TestDevices.NamesWithGpuShapes)
            foreach (var kernel in Enum.GetValues<MmdKernel>())
                foreach (bool unbiased in new[] { true, false })
                    foreach (var (b, m) in new[] { (6, 6), (7, 11), (9, 4) })
                        data.Add(device, kernel, unbiased, b, m);
        return data;
    }

    const int K = 3;

    static double Parameter(MmdKernel kernel) => kernel == MmdKernel.Rbf ? 1.3 : 2.0 * K;

    static (double Value, float[] Dz) RunKernel(string device, float[] z, float[] prior, int b, int m, MmdKernel kernel, bool unbiased, float weight, float[]? dzStart = null)
    {
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (rows, dz) = (d.Doubles(b + m), d.Upload(dzStart ?? new float[b * K]));
        d.Device.Kernels.Mmd(Problem(b, m, kernel, unbiased, weight), d.Upload(z), d.Upload(prior), default, default, rows, dz, default);
        return (DeviceArrays.Download(rows).Sum(), DeviceArrays.Download(dz));
    }

    static MmdProblem Problem(int b, int m, MmdKernel kernel, bool unbiased, float weight) => new()
    {
        B = b, M = m, Latent = K, Kernel = (int)kernel, KernelParameter = (float)Parameter(kernel),
        Unbiased = unbiased ? 1 : 0, GradScale = weight,
    };

    /// <summary>
    /// With Backward set, each code row's complete dz (what it held plus the MMD's gradient) becomes dHeads exactly
    /// as the stand-alone reparameterization backward computes it from that dz.
    /// </summary>
    [DeviceTheory]
    [MemberData(nameof(DeviceNames))]
    public void FusedReparameterizationBackwardMatchesTheStandaloneKernel(string device)
    {
        const int b = 9, m = 6;
        var random = new Random(12);
        float[] z = TestData.Normal(random, b * K), prior = TestData.Normal(random, m * K), dzStart = TestData.Uniform(random, b * K);
        float[] heads = TestData.Uniform(random, b * 2 * K), eps = TestData.Normal(random, b * K);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var k = d.Device.Kernels;
        var (rows, dz, fused, separate) = (d.Doubles(b + m), d.Upload(dzStart), d.Floats(b * 2 * K), d.Floats(b * 2 * K));
        var (h, e) = (d.Upload(heads), d.Upload(eps));
        var p = Problem(b, m, MmdKernel.Imq, true, 3f);
        p.Backward = 1;
        p.KlGradScale = 0.25f;
        k.Mmd(p, d.Upload(z), d.Upload(prior), h, e, rows, dz, fused);
        k.ReparameterizeBackward(b, K, 0.25f, false, h, e, dz, separate);
        Assert.Equal(DeviceArrays.Download(separate), DeviceArrays.Download(fused));
        var (_, grad) = Reference.Mmd(TestData.ToDouble(z), b, TestData.ToDouble(prior), m, K, MmdKernel.Imq, Parameter(MmdKernel.Imq), true);
        Tolerance.AssertClose(DeviceArrays.Download(dz), grad.Select((g, i) => dzStart[i] + 3.0 * g).ToArray(), 1e-5, "dz");
    }

    /// <summary>
    /// Data-parallel shards: launches over code rows [0, 5) and [5, 9) of the same 9 codes (the first also taking the prior
    /// rows) give those rows' terms, dz and dHeads exactly as the launch over all rows does.
    /// </summary>
    [DeviceTheory]
    [MemberData(nameof(DeviceNames))]
    public void ShardLaunchesGiveTheWholeLaunchsRowsExactly(string device)
    {
        const int b = 9, m = 6;
        var random = new Random(21);
        float[] z = TestData.Normal(random, b * K), prior = TestData.Normal(random, m * K), dzStart = TestData.Uniform(random, b * K);
        float[] heads = TestData.Uniform(random, b * 2 * K), eps = TestData.Normal(random, b * K);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var k = d.Device.Kernels;
        var p = Problem(b, m, MmdKernel.Imq, true, 3f);
        (p.Backward, p.KlGradScale) = (1, 0.25f);
        var (rows, dz, dHeads) = (d.Doubles(b + m), d.Upload(dzStart), d.Floats(b * 2 * K));
        k.Mmd(p, d.Upload(z), d.Upload(prior), d.Upload(heads), d.Upload(eps), rows, dz, dHeads);

        var (gotRows, gotDz, gotHeads) = (new double[b + m], new float[b * K], new float[b * 2 * K]);
        foreach (var (first, count) in new[] { (0, 5), (5, 4) })
        {
            var shard = p;
            (shard.OwnFirst, shard.OwnRows, shard.SkipPrior) = (first, count, first == 0 ? 0 : 1);
            var (sRows, sDz, sHeads) = (d.Doubles(b + m), d.Upload(dzStart[(first * K)..((first + count) * K)]), d.Floats(count * 2 * K));
            k.Mmd(shard, d.Upload(z), d.Upload(prior), d.Upload(heads[(first * 2 * K)..]), d.Upload(eps[(first * K)..]), sRows, sDz, sHeads);
            var shardRows = DeviceArrays.Download(sRows);
            Array.Copy(shardRows, first, gotRows, first, count);
            if (first == 0) Array.Copy(shardRows, b, gotRows, b, m);
            DeviceArrays.Download(sDz).CopyTo(gotDz, first * K);
            DeviceArrays.Download(sHeads).CopyTo(gotHeads, first * 2 * K);
        }
        Assert.Equal(DeviceArrays.Download(rows), gotRows);
        Assert.Equal(DeviceArrays.Download(dz), gotDz);
        Assert.Equal(DeviceArrays.Download(dHeads), gotHeads);
    }

    /// <summary>Larger sets in latent 20, as training has them: MMD² of a batch stays within the fixtures' 1e-4.</summary>
    [DeviceTheory]
    [MemberData(nameof(DeviceNames))]
    public void ABatchOfLatentTwentyMatchesTheReference(string device)
    {
        const int b = 40, m = 33, k = 20;
        var random = new Random(13);
        float[] z = TestData.Normal(random, b * k, 0.9), prior = TestData.Normal(random, m * k);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (rows, dz) = (d.Doubles(b + m), d.Floats(b * k));
        var p = new MmdProblem { B = b, M = m, Latent = k, Kernel = (int)MmdKernel.Imq, KernelParameter = 40f, Unbiased = 1, GradScale = 1f };
        d.Device.Kernels.Mmd(p, d.Upload(z), d.Upload(prior), default, default, rows, dz, default);
        var (want, grad) = Reference.Mmd(TestData.ToDouble(z), b, TestData.ToDouble(prior), m, k, MmdKernel.Imq, 40, true);
        Tolerance.AssertNear(DeviceArrays.Download(rows).Sum(), want, 1e-6, 1e-8, "MMD²");
        Tolerance.AssertClose(DeviceArrays.Download(dz), grad, 1e-5, "dz");
    }

    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void ValueAndGradientMatchReference(string device, MmdKernel kernel, bool unbiased, int b, int m)
    {
        var random = new Random(b * 100 + m);
        float[] z = TestData.Normal(random, b * K, 0.8), prior = TestData.Normal(random, m * K);
        var dzStart = TestData.Uniform(random, b * K);
        const float weight = 2.5f;
        var (value, dz) = RunKernel(device, z, prior, b, m, kernel, unbiased, weight, dzStart);
        var (want, grad) = Reference.Mmd(TestData.ToDouble(z), b, TestData.ToDouble(prior), m, K, kernel, Parameter(kernel), unbiased);
        Tolerance.AssertNear(value, want, 1e-6, 1e-7, "MMD²");
        // The kernel adds weight·∂MMD²/∂z into what dz held.
        Tolerance.AssertClose(dz, grad.Select((g, i) => dzStart[i] + weight * g).ToArray(), 1e-5, "dz");
    }

    /// <summary>
    /// A training-sized batch (k = 20, M ≠ B, past several vector widths and bands): the CPU's float distances
    /// and kernel values keep MMD² and its gradient within the fixtures' 1e-4.
    /// </summary>
    [DeviceTheory]
    [MemberData(nameof(DeviceNames))]
    public void TrainingSizedBatchesStayWithinTheFixturesTolerance(string device)
    {
        const int k = 20, b = 131, m = 203;
        var random = new Random(20);
        float[] z = TestData.Normal(random, b * k, 0.9), prior = TestData.Normal(random, m * k);
        foreach (var kernel in Enum.GetValues<MmdKernel>())
            foreach (bool unbiased in new[] { true, false })
            {
                double parameter = kernel == MmdKernel.Rbf ? 1.0 : 2.0 * k;
                using var d = new DeviceArrays(TestDevices.Get(device));
                var (rows, dz) = (d.Doubles(b + m), d.Upload(new float[b * k]));
                d.Device.Kernels.Mmd(new MmdProblem
                {
                    B = b, M = m, Latent = k, Kernel = (int)kernel, KernelParameter = (float)parameter, Unbiased = unbiased ? 1 : 0, GradScale = 1f,
                }, d.Upload(z), d.Upload(prior), default, default, rows, dz, default);
                var (want, grad) = Reference.Mmd(TestData.ToDouble(z), b, TestData.ToDouble(prior), m, k, kernel, parameter, unbiased);
                Tolerance.AssertNear(DeviceArrays.Download(rows).Sum(), want, 1e-4, 1e-7, $"MMD² ({kernel}, unbiased {unbiased})");
                Tolerance.AssertClose(DeviceArrays.Download(dz), grad, 1e-4, $"dz ({kernel}, unbiased {unbiased})");
            }
    }

    [Theory]
    [InlineData(MmdKernel.Rbf, true)]
    [InlineData(MmdKernel.Imq, false)]
    public void ReferenceGradientMatchesCentralDifferences(MmdKernel kernel, bool unbiased)
    {
        var random = new Random(9);
        double[] z = TestData.ToDouble(TestData.Normal(random, 5 * K)), p = TestData.ToDouble(TestData.Normal(random, 7 * K));
        var (_, grad) = Reference.Mmd(z, 5, p, 7, K, kernel, Parameter(kernel), unbiased);
        const double h = 1e-6;
        for (int i = 0; i < z.Length; i++)
        {
            double keep = z[i];
            z[i] = keep + h; double up = Reference.Mmd(z, 5, p, 7, K, kernel, Parameter(kernel), unbiased).Value;
            z[i] = keep - h; double down = Reference.Mmd(z, 5, p, 7, K, kernel, Parameter(kernel), unbiased).Value;
            z[i] = keep;
            Tolerance.AssertNear(grad[i], (up - down) / (2 * h), 1e-6, 1e-8, $"∂/∂z[{i}]");
        }
    }

    [DeviceTheory]
    [MemberData(nameof(DeviceNames))]
    public void BiasedEstimatorOfASetAgainstItselfIsZero(string device)
    {
        var z = TestData.Normal(new Random(4), 8 * K);
        foreach (var kernel in Enum.GetValues<MmdKernel>())
        {
            var (value, dz) = RunKernel(device, z, z, 8, 8, kernel, unbiased: false, weight: 1f);
            Tolerance.AssertNear(value, 0, 0, 1e-7, $"{kernel}");
            Assert.All(dz, g => Assert.True(Math.Abs(g) < 1e-5));
        }
    }

    [DeviceTheory]
    [MemberData(nameof(DeviceNames))]
    public void UnbiasedEstimatorAveragesNearZeroForTheSameDistribution(string device)
    {
        // Independent draws of N(0, I) on both sides: E[MMD²_u] = 0; the mean of 40 estimates is far below their spread.
        var random = new Random(5);
        var values = Enumerable.Range(0, 40).Select(_ =>
            RunKernel(device, TestData.Normal(random, 16 * K), TestData.Normal(random, 16 * K), 16, 16, MmdKernel.Imq, true, 0f).Value).ToArray();
        double mean = values.Average(), sd = Math.Sqrt(values.Select(v => (v - mean) * (v - mean)).Average());
        Assert.True(Math.Abs(mean) < 3 * sd / Math.Sqrt(values.Length), $"mean {mean}, sd {sd}");
        Assert.Contains(values, v => v < 0); // the U-statistic can go negative; the V-statistic cannot
    }

    public static TheoryData<string> DeviceNames => TestDevices.AllWithGpuShapes;
}
