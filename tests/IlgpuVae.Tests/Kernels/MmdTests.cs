using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>MMD² between codes and prior draws (M = B and M ≠ B), both kernels, both estimators, and ∂/∂z.</summary>
public sealed class MmdTests
{
    public static TheoryData<string, MmdKernel, bool, int, int> Cases()
    {
        var data = new TheoryData<string, MmdKernel, bool, int, int>();
        foreach (var device in TestDevices.Names)
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
        d.Device.Kernels.Mmd(new MmdProblem
        {
            B = b, M = m, Latent = K, Kernel = (int)kernel, KernelParameter = (float)Parameter(kernel),
            Unbiased = unbiased ? 1 : 0, GradScale = weight,
        }, d.Upload(z), d.Upload(prior), rows, dz);
        return (DeviceArrays.Download(rows).Sum(), DeviceArrays.Download(dz));
    }

    [Theory]
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

    [Theory]
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

    [Theory]
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

    public static TheoryData<string> DeviceNames => TestDevices.All;
}
