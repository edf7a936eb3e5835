using IlgpuVae.Data;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>The counter-based generator: N(0, 1) statistics, and the same numbers for the same key whatever the launch.</summary>
public sealed class RandomTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    static float[] Normal(string device, ulong key, int n)
    {
        using var d = new DeviceArrays(TestDevices.Get(device));
        var v = d.Floats(n);
        d.Device.Kernels.FillNormal(key, n, v);
        return DeviceArrays.Download(v);
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void NormalDrawsHaveUnitMoments(string device)
    {
        const int n = 20000;
        var x = Normal(device, CounterRng.Key(7, RandomStreams.Epsilon, 0), n);
        double mean = x.Average(v => (double)v), variance = x.Average(v => (v - mean) * (v - mean));
        double kurtosis = x.Average(v => Math.Pow(v - mean, 4)) / (variance * variance);
        // Standard errors: 0.007 for the mean, 0.01 for the variance, 0.035 for the kurtosis; 5 of each.
        Assert.InRange(mean, -0.035, 0.035);
        Assert.InRange(variance, 0.95, 1.05);
        Assert.InRange(kurtosis, 2.8, 3.2);
        Assert.All(x, v => Assert.True(float.IsFinite(v)));
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void TheSameKeyGivesTheSameNumbersWhateverTheLength(string device)
    {
        ulong key = CounterRng.Key(3, RandomStreams.Prior, 5);
        var shortRun = Normal(device, key, 100);
        var longRun = Normal(device, key, 5000);
        Assert.Equal(shortRun, longRun[..100]);
        // And the same as the host computes: one generator, every accelerator.
        Assert.Equal(Enumerable.Range(0, 100).Select(i => CounterRng.Normal(key, i)).ToArray(), shortRun);
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void DifferentSeedsStreamsAndStepsDiffer(string device)
    {
        var a = Normal(device, CounterRng.Key(1, RandomStreams.Epsilon, 0), 64);
        foreach (var key in new[] { CounterRng.Key(2, RandomStreams.Epsilon, 0), CounterRng.Key(1, RandomStreams.Prior, 0), CounterRng.Key(1, RandomStreams.Epsilon, 1) })
            Assert.NotEqual(a, Normal(device, key, 64));
    }

    [Fact]
    public void UniformsLieInTheOpenUnitInterval()
    {
        var u = Enumerable.Range(0, 100000).Select(i => CounterRng.Uniform(12345, i)).ToArray();
        Assert.All(u, v => Assert.True(v > 0f && v < 1f));
        Assert.InRange(u.Average(v => (double)v), 0.497, 0.503);
    }

    [Fact]
    public void TheBitsMapIntoTheOpenIntervalAtTheExtremePatterns()
    {
        const double ulp = 1.0 / (1 << 24);
        Assert.Equal(0.5 * ulp, CounterRng.UnitInterval(0));
        Assert.Equal(1.5 * ulp, CounterRng.UnitInterval(1));
        Assert.Equal(((1 << 23) - 0.5) * ulp, CounterRng.UnitInterval((1 << 23) - 1));
        // From 2²³ on, float has no halves: the half rounds to even.
        Assert.Equal((1 << 23) * ulp, CounterRng.UnitInterval(1 << 23));
        Assert.Equal(((1 << 24) - 2) * ulp, CounterRng.UnitInterval((1 << 24) - 2));
        // The last pattern would round to exactly 1; it is the largest float below 1 instead.
        Assert.Equal(1 - ulp, CounterRng.UnitInterval((1 << 24) - 1));
        Assert.True(CounterRng.UnitInterval((1 << 24) - 1) < 1f);
    }

    [Fact]
    public void EveryBitPatternMapsIntoTheOpenIntervalTheSameOnTheVectorPath()
    {
        // All 2²⁴ patterns, so an event of probability 2⁻²⁴ cannot hide; the vector path (the CPU accelerator's draws)
        // must give the scalar path's bits for each, and the clamp must change that one pattern only.
        int w = System.Numerics.Vector<int>.Count, changed = 0;
        var patterns = new int[w];
        float previous = 0f;
        for (int first = 0; first < 1 << 24; first += w)
        {
            for (int j = 0; j < w; j++) patterns[j] = first + j;
            var vector = VectorNormals.UnitInterval(new System.Numerics.Vector<int>(patterns));
            for (int j = 0; j < w; j++)
            {
                float u = CounterRng.UnitInterval((ulong)(first + j));
                if (!(u > previous && u < 1f) && !(u == previous && first + j >= 1 << 23))
                    Assert.Fail($"pattern {first + j}: {u:R} after {previous:R}");
                if (BitConverter.SingleToInt32Bits(vector[j]) != BitConverter.SingleToInt32Bits(u))
                    Assert.Fail($"pattern {first + j}: the vector path gives {vector[j]:R}, the scalar path {u:R}");
                if (u != ((first + j) + 0.5f) * (1f / 16777216f)) changed++;
                previous = u;
            }
        }
        Assert.Equal(1, changed);
    }

    [Fact]
    public void CpuVectorDrawsAreThePortableKernelsBits()
    {
        // FillNormal, and the reparameterization's ε, z and KL: the CPU accelerator's vector draws against the scalar kernels.
        ulong key = CounterRng.Key(11, RandomStreams.Epsilon, 4);
        Assert.Equal(Normal(TestDevices.PortableCpu, key, 5003), Normal("cpu", key, 5003));
        const int batch = 37, latent = 20;
        var heads = TestData.Uniform(new Random(5), batch * 2 * latent, -1.5f, 1f);
        (float[], float[], double[]) Run(string device)
        {
            using var d = new DeviceArrays(TestDevices.Get(device));
            var (eps, z, kl) = (d.Floats(batch * latent), d.Floats(batch * latent), d.Doubles(batch * latent));
            d.Device.Kernels.Reparameterize(batch, latent, key, false, d.Upload(heads), eps, z, kl, counterOffset: 60);
            return (DeviceArrays.Download(eps), DeviceArrays.Download(z), DeviceArrays.Download(kl));
        }
        var (fast, portable) = (Run("cpu"), Run(TestDevices.PortableCpu));
        Assert.Equal(portable.Item1, fast.Item1);
        Assert.Equal(portable.Item2, fast.Item2);
        Assert.Equal(portable.Item3, fast.Item3);
    }
}
