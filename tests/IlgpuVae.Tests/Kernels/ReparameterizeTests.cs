using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// z = μ + exp(½ log σ²)·ε with the fused KL (per element) and the fused noise draw, and its backward, against
/// double math and finite differences.
/// </summary>
public sealed class ReparameterizeTests
{
    public static TheoryData<string> Devices => TestDevices.AllWithGpuShapes;

    const int B = 7, K = 5;

    static (float[] Heads, float[] Eps) Inputs(int seed, double logVarScale = 1)
    {
        var random = new Random(seed);
        var heads = new float[B * 2 * K];
        for (int b = 0; b < B; b++)
            for (int j = 0; j < K; j++)
            {
                heads[b * 2 * K + j] = (float)(2 * random.NextDouble() - 1);
                heads[b * 2 * K + K + j] = (float)(logVarScale * (2 * random.NextDouble() - 1));
            }
        return (heads, TestData.Normal(random, B * K));
    }

    static (double[] Z, double[] Kl) Expected(float[] heads, float[] eps)
    {
        var z = new double[B * K];
        var kl = new double[B * K];
        for (int b = 0; b < B; b++)
            for (int j = 0; j < K; j++)
            {
                double mu = heads[b * 2 * K + j], lv = heads[b * 2 * K + K + j];
                z[b * K + j] = mu + Math.Exp(0.5 * lv) * eps[b * K + j];
                kl[b * K + j] = 0.5 * (mu * mu + Math.Exp(lv) - 1 - lv);
            }
        return (z, kl);
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void ForwardMatchesReference(string device)
    {
        var (heads, eps) = Inputs(1);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (z, kl) = (d.Floats(B * K), d.Doubles(B * K));
        d.Device.Kernels.Reparameterize(B, K, null, false, d.Upload(heads), d.Upload(eps), z, kl);
        var (wantZ, wantKl) = Expected(heads, eps);
        Tolerance.AssertClose(DeviceArrays.Download(z), wantZ, 1e-6, "z");
        var gotKl = DeviceArrays.Download(kl);
        for (int i = 0; i < B * K; i++) Tolerance.AssertNear(gotKl[i], wantKl[i], 1e-5, 1e-6, $"kl[{i}]");
    }

    /// <summary>With a key, ε is drawn in the launch: draw i of the key, the numbers FillNormal gives, and stored.</summary>
    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void NoiseDrawnInTheLaunchIsTheGeneratorsAndIsKept(string device)
    {
        var (heads, _) = Inputs(7);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (eps, z, kl, filled) = (d.Floats(B * K), d.Floats(B * K), d.Doubles(B * K), d.Floats(B * K));
        d.Device.Kernels.Reparameterize(B, K, 1234UL, false, d.Upload(heads), eps, z, kl);
        d.Device.Kernels.FillNormal(1234UL, B * K, filled);
        var drawn = DeviceArrays.Download(eps);
        Assert.Equal(DeviceArrays.Download(filled), drawn);
        Tolerance.AssertClose(DeviceArrays.Download(z), Expected(heads, drawn).Z, 1e-6, "z");
    }

    /// <summary>A data-parallel shard of rows [2, B) passes its first counter, 2·k, and draws exactly what those rows draw in the whole batch.</summary>
    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void AShardDrawsItsOwnRowsNoise(string device)
    {
        const int first = 2, rows = B - first;
        var (heads, _) = Inputs(8);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var k = d.Device.Kernels;
        var (eps, z, kl) = (d.Floats(B * K), d.Floats(B * K), d.Doubles(B * K));
        k.Reparameterize(B, K, 99UL, false, d.Upload(heads), eps, z, kl);
        var (shardEps, shardZ, shardKl) = (d.Floats(rows * K), d.Floats(rows * K), d.Doubles(rows * K));
        k.Reparameterize(rows, K, 99UL, false, d.Upload(heads[(first * 2 * K)..]), shardEps, shardZ, shardKl, counterOffset: first * K);
        Assert.Equal(DeviceArrays.Download(eps)[(first * K)..], DeviceArrays.Download(shardEps));
        Assert.Equal(DeviceArrays.Download(z)[(first * K)..], DeviceArrays.Download(shardZ));
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void BackwardMatchesReference(string device)
    {
        var (heads, eps) = Inputs(2);
        var dz = TestData.Uniform(new Random(3), B * K);
        const float w = 0.3f;
        using var d = new DeviceArrays(TestDevices.Get(device));
        var dHeads = d.Floats(B * 2 * K);
        d.Device.Kernels.ReparameterizeBackward(B, K, w, false, d.Upload(heads), d.Upload(eps), d.Upload(dz), dHeads);
        var want = new double[B * 2 * K];
        for (int b = 0; b < B; b++)
            for (int j = 0; j < K; j++)
            {
                double mu = heads[b * 2 * K + j], lv = heads[b * 2 * K + K + j], g = dz[b * K + j];
                want[b * 2 * K + j] = g + w * mu;
                want[b * 2 * K + K + j] = g * eps[b * K + j] * 0.5 * Math.Exp(0.5 * lv) + w * 0.5 * (Math.Exp(lv) - 1);
            }
        Tolerance.AssertClose(DeviceArrays.Download(dHeads), want, 1e-6, "dHeads");
    }

    /// <summary>L = Σ r ⊙ z + w·Σ KL rows: the backward kernel against central differences of the forward kernel.</summary>
    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void BackwardMatchesFiniteDifferences(string device)
    {
        var (heads, eps) = Inputs(4);
        var random = new Random(5);
        var r = TestData.Uniform(random, B * K);
        const float w = 0.7f;
        using var d = new DeviceArrays(TestDevices.Get(device));
        var k = d.Device.Kernels;
        var (z, kl, dHeads) = (d.Floats(B * K), d.Doubles(B * K), d.Floats(B * 2 * K));
        var epsView = d.Upload(eps);
        double Loss(float[] h)
        {
            k.Reparameterize(B, K, null, false, d.Upload(h), epsView, z, kl);
            return DeviceArrays.Download(z).Zip(r, (a, b) => (double)a * b).Sum() + w * DeviceArrays.Download(kl).Sum();
        }
        k.ReparameterizeBackward(B, K, w, false, d.Upload(heads), epsView, d.Upload(r), dHeads);
        var grad = DeviceArrays.Download(dHeads);
        var v = TestData.Normal(random, heads.Length);
        const float step = 1e-2f;
        double numeric = (Loss(heads.Select((h, i) => h + step * v[i]).ToArray()) - Loss(heads.Select((h, i) => h - step * v[i]).ToArray())) / (2 * step);
        Tolerance.AssertNear(numeric, grad.Zip(v, (g, u) => (double)g * u).Sum(), 1e-2, 1e-3, "directional derivative");
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void ExtremeLogVarianceStaysFinite(string device)
    {
        var (heads, eps) = Inputs(6);
        for (int b = 0; b < B; b++) heads[b * 2 * K + K] = b % 2 == 0 ? 30f : -30f;
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (z, kl, dHeads) = (d.Floats(B * K), d.Doubles(B * K), d.Floats(B * 2 * K));
        var (h, e) = (d.Upload(heads), d.Upload(eps));
        d.Device.Kernels.Reparameterize(B, K, null, false, h, e, z, kl);
        d.Device.Kernels.ReparameterizeBackward(B, K, 1f, false, h, e, d.Upload(new float[B * K]), dHeads);
        Assert.All(DeviceArrays.Download(z), v => Assert.True(float.IsFinite(v)));
        Assert.All(DeviceArrays.Download(kl), v => Assert.True(double.IsFinite(v)));
        Assert.All(DeviceArrays.Download(dHeads), v => Assert.True(float.IsFinite(v)));
        var (_, wantKl) = Expected(heads, eps);
        Tolerance.AssertClose(DeviceArrays.Download(kl).Select(x => (float)x).ToArray(), wantKl, 1e-5, "kl");
    }
}
