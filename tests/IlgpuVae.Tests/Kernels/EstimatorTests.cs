using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>The evaluation kernels against double-precision references on small cases.</summary>
public sealed class EstimatorTests
{
    public static TheoryData<string> Devices => TestDevices.AllWithGpuKernelsOnCpu;

    const int K = 3;

    static float[] Heads(Random random, int n) =>
        Enumerable.Range(0, n * 2 * K).Select(i => (float)(i % (2 * K) < K ? random.NextDouble() * 2 - 1 : random.NextDouble() - 1.2)).ToArray();

    [Theory]
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

    [Theory]
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

    [Theory]
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

    [Theory]
    [MemberData(nameof(Devices))]
    public void DimensionStatisticsMatchTheReference(string device)
    {
        var random = new Random(3);
        const int n = 11;
        var heads = Heads(random, n);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (variance, kl) = (d.Doubles(K), d.Doubles(K));
        d.Device.Kernels.DimensionStatistics(n, K, d.Upload(heads), variance, kl);
        var (gotVar, gotKl) = (DeviceArrays.Download(variance), DeviceArrays.Download(kl));
        for (int j = 0; j < K; j++)
        {
            var mu = Enumerable.Range(0, n).Select(m => (double)heads[m * 2 * K + j]).ToArray();
            double mean = mu.Average();
            Tolerance.AssertNear(gotVar[j], mu.Sum(v => (v - mean) * (v - mean)) / (n - 1), 1e-9, 1e-12, $"var μ[{j}]");
            double wantKl = Enumerable.Range(0, n).Average(m =>
            {
                double m0 = heads[m * 2 * K + j], lv = heads[m * 2 * K + K + j];
                return 0.5 * (m0 * m0 + Math.Exp(lv) - 1 - lv);
            });
            Tolerance.AssertNear(gotKl[j], wantKl, 1e-6, 1e-7, $"kl[{j}]");
        }
    }
}
