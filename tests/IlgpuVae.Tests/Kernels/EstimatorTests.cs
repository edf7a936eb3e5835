using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>The evaluation kernels against double-precision references on small cases.</summary>
public sealed class EstimatorTests
{
    public static TheoryData<string> Devices => TestDevices.AllWithGpuShapes;

    const int K = 3;

    static float[] Heads(Random random, int n) =>
        Enumerable.Range(0, n * 2 * K).Select(i => (float)(i % (2 * K) < K ? random.NextDouble() * 2 - 1 : random.NextDouble() - 1.2)).ToArray();

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void ImportanceSamplesMatchTheReference(string device)
    {
        var random = new Random(1);
        const int images = 3, samples = 4, stride = 5;
        var heads = Heads(random, images);
        var p = new ImportanceProblem { Images = images, Samples = samples, RowStride = stride, Latent = K, TotalSamples = 10, FirstSample = 4, FirstImage = 7, Key = 99 };
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (z, ratio) = (d.Floats(images * stride * K), d.Doubles(images * stride));
        d.Device.Kernels.ImportanceSamples(p, d.Upload(heads), z, ratio);
        var (gotZ, gotRatio) = (DeviceArrays.Download(z), DeviceArrays.Download(ratio));
        for (int b = 0; b < images; b++)
            for (int s = 0; s < samples; s++)
            {
                int r = b * stride + s;
                double logP = 0, logQ = 0;
                for (int j = 0; j < K; j++)
                {
                    double mu = heads[b * 2 * K + j], lv = heads[b * 2 * K + K + j];
                    double eps = CounterRng.Normal(99, ((long)(7 + b) * 10 + 4 + s) * K + j);
                    double zj = mu + Math.Exp(0.5 * lv) * eps;
                    Tolerance.AssertNear(gotZ[r * K + j], zj, 1e-5, 1e-6, $"z[{b},{s},{j}]");
                    logP += -0.5 * (Math.Log(2 * Math.PI) + zj * zj);
                    logQ += -0.5 * (Math.Log(2 * Math.PI) + lv + (zj - mu) * (zj - mu) / Math.Exp(lv));
                }
                Tolerance.AssertNear(gotRatio[r], logP - logQ, 1e-5, 1e-5, $"log p − log q [{b},{s}]");
            }
        Assert.Equal(0, gotRatio[samples]); // rows past the chunk's draws are left alone
    }

    [Fact]
    public void CpuImportanceDrawsAreThePortableKernelsBits()
    {
        var random = new Random(2);
        const int images = 5, samples = 37, stride = 40, latent = 20;
        var heads = Enumerable.Range(0, images * 2 * latent).Select(i => (float)(random.NextDouble() * 2 - 1.5)).ToArray();
        var p = new ImportanceProblem { Images = images, Samples = samples, RowStride = stride, Latent = latent, TotalSamples = 1000, FirstSample = 111, FirstImage = 3, Key = 5 };
        (float[] Z, double[] Ratio) Run(string device)
        {
            using var d = new DeviceArrays(TestDevices.Get(device));
            var (z, ratio) = (d.Floats(images * stride * latent), d.Doubles(images * stride));
            d.Device.Kernels.ImportanceSamples(p, d.Upload(heads), z, ratio);
            return (DeviceArrays.Download(z), DeviceArrays.Download(ratio));
        }
        var (fast, portable) = (Run("cpu"), Run(TestDevices.PortableCpu));
        Assert.Equal(portable.Z, fast.Z);
        Assert.Equal(portable.Ratio, fast.Ratio);
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void LogMeanExpIsStableAndMatchesTheReference(string device)
    {
        double[] w = [-1000, -1001, -999.5, -1002, 3, 2, 5, -700, 0.5, 0.25, -0.5, 1];
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (iwae, elbo) = (d.Doubles(3), d.Doubles(3));
        var weights = d.Doubles(w.Length);
        weights.Fill(w);
        d.Device.Kernels.LogMeanExp(3, 4, weights, iwae, elbo);
        var (gotIwae, gotElbo) = (DeviceArrays.Download(iwae), DeviceArrays.Download(elbo));
        for (int b = 0; b < 3; b++)
        {
            var row = w[(b * 4)..(b * 4 + 4)];
            double max = row.Max();
            Tolerance.AssertNear(gotIwae[b], max + Math.Log(row.Sum(v => Math.Exp(v - max)) / 4), 1e-12, 1e-12, $"iwae[{b}]");
            Tolerance.AssertNear(gotElbo[b], row.Average(), 1e-12, 1e-12, $"elbo[{b}]");
            Assert.True(gotIwae[b] >= gotElbo[b]); // Jensen: log-mean-exp ≥ mean
        }
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void MutualInformationTermsMatchTheReference(string device)
    {
        var random = new Random(2);
        const int n = 9;
        var heads = Heads(random, n);
        var z = TestData.Normal(random, n * K);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var terms = d.Doubles(n);
        d.Device.Kernels.MutualInformationTerms(n, K, d.Upload(heads), d.Upload(z), terms);
        var got = DeviceArrays.Download(terms);
        double LogQ(int i, int m) => Enumerable.Range(0, K).Sum(j =>
        {
            double mu = heads[m * 2 * K + j], lv = heads[m * 2 * K + K + j], dz = z[i * K + j] - mu;
            return -0.5 * (Math.Log(2 * Math.PI) + lv + dz * dz / Math.Exp(lv));
        });
        for (int i = 0; i < n; i++)
        {
            var logs = Enumerable.Range(0, n).Select(m => LogQ(i, m)).ToArray();
            double max = logs.Max(), logMix = max + Math.Log(logs.Sum(v => Math.Exp(v - max))) - Math.Log(n);
            Tolerance.AssertNear(got[i], LogQ(i, i) - logMix, 1e-6, 1e-6, $"term[{i}]");
            Assert.True(got[i] <= Math.Log(n) + 1e-9, $"term[{i}] = {got[i]} exceeds log N"); // its own density is one of the N
        }
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void DimensionStatisticsMatchTheReference(string device)
    {
        var random = new Random(3);
        const int n = 11;
        var heads = Heads(random, n);
        // The KL elements the Gaussian's encode writes, analytic.
        var klElements = Enumerable.Range(0, n * K).Select(i =>
        {
            double m0 = heads[i / K * 2 * K + i % K], lv = heads[i / K * 2 * K + K + i % K];
            return 0.5 * (m0 * m0 + Math.Exp(lv) - 1 - lv);
        }).ToArray();
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (variance, kl) = (d.Doubles(K), d.Doubles(K));
        d.Device.Kernels.DimensionStatistics(new DimensionProblem { Count = n, Latent = K, Stride = 2 * K, Draws = 1 },
            d.Upload(heads), default, d.Upload(klElements), variance, kl);
        var (gotVar, gotKl) = (DeviceArrays.Download(variance), DeviceArrays.Download(kl));
        for (int j = 0; j < K; j++)
        {
            var mu = Enumerable.Range(0, n).Select(m => (double)heads[m * 2 * K + j]).ToArray();
            double mean = mu.Average();
            Tolerance.AssertNear(gotVar[j], mu.Sum(v => (v - mean) * (v - mean)) / (n - 1), 1e-9, 1e-12, $"var μ[{j}]");
            Tolerance.AssertNear(gotKl[j], Enumerable.Range(0, n).Average(m => klElements[m * K + j]), 1e-12, 1e-12, $"kl[{j}]");
        }
    }

    /// <summary>
    /// Monte Carlo means (a flow's): the variance of the draws' means over the posteriors, less the mean
    /// within-posterior variance over the number of draws — so a dimension whose posteriors all share one
    /// distribution comes out near 0, however noisy its draws.
    /// </summary>
    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void DrawnMeansHaveTheirNoiseTakenOutOfTheVariance(string device)
    {
        var random = new Random(5);
        const int n = 300, draws = 8;
        // Dimension 0 depends on the posterior (means i/n), dimension 1 does not (every posterior N(0, 1)).
        var sums = new float[n * 2];
        var squares = new float[n * 2];
        for (int i = 0; i < n; i++)
            for (int s = 0; s < draws; s++)
            {
                float a = 3f * i / n + (float)Normal(random), b = (float)Normal(random);
                sums[i * 2] += a; squares[i * 2] += a * a;
                sums[i * 2 + 1] += b; squares[i * 2 + 1] += b * b;
            }
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (variance, kl) = (d.Doubles(2), d.Doubles(2));
        d.Device.Kernels.DimensionStatistics(new DimensionProblem { Count = n, Latent = 2, Stride = 2, Draws = draws },
            d.Upload(sums), d.Upload(squares), d.Upload(new double[n * 2]), variance, kl);
        var got = DeviceArrays.Download(variance);
        // Var of i·3/n over i is 0.75; the uncorrected variance of dimension 1's means would be 1/8.
        Assert.InRange(got[0], 0.6, 0.9);
        Assert.InRange(got[1], -0.03, 0.03);
        double Reference(int j)
        {
            var means = Enumerable.Range(0, n).Select(i => (double)sums[i * 2 + j] / draws).ToArray();
            double mean = means.Average(), between = means.Sum(v => (v - mean) * (v - mean)) / (n - 1);
            double within = Enumerable.Range(0, n).Average(i => (squares[i * 2 + j] - draws * means[i] * means[i]) / (draws - 1));
            return between - within / draws;
        }
        Tolerance.AssertNear(got[0], Reference(0), 1e-6, 1e-9, "dimension 0");
        Tolerance.AssertNear(got[1], Reference(1), 1e-6, 1e-9, "dimension 1");
    }

    static double Normal(Random r) => Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble());
}
