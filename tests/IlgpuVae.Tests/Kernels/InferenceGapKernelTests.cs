using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// The inference gap's kernels against references in double: the per-image Adam over draws (the mean gradient of a
/// step's draws, then Adam's update), each draw's ELBO gathered into per-image moments with the paired differences,
/// and the delta-method variance of the IWAE estimate.
/// </summary>
public sealed class InferenceGapKernelTests
{
    static GapAdamStep Step(int t, int draw, int draws) => new()
    {
        Adam = new AdamStep
        {
            LearningRate = 0.05f, Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f,
            BiasCorrection1 = (float)(1 - Math.Pow(0.9, t)), BiasCorrection2 = (float)(1 - Math.Pow(0.999, t)),
        },
        First = draw == 0 ? 1 : 0, Last = draw == draws - 1 ? 1 : 0, Scale = 1f / draws,
    };

    /// <summary>Three steps of three draws each on <paramref name="device"/>; the parameters after them.</summary>
    static float[] Run(string device, float[] theta, float[][][] grads)
    {
        int n = theta.Length;
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (parameters, sums, m, v) = (d.Upload(theta), d.Floats(n), d.Floats(n), d.Floats(n));
        for (int t = 0; t < grads.Length; t++)
            for (int draw = 0; draw < grads[t].Length; draw++)
                d.Device.Kernels.GapAdam(Step(t + 1, draw, grads[t].Length), d.Upload(grads[t][draw]), parameters, sums, m, v);
        return DeviceArrays.Download(parameters);
    }

    static float[][][] Gradients(Random random, int n) =>
        Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 3).Select(_ => TestData.Uniform(random, n, -2, 2)).ToArray()).ToArray();

    [DeviceTheory]
    [MemberData(nameof(DevicesWithGpuShapes))]
    public void AdamOverDrawsMatchesTheReference(string device)
    {
        const int n = 37;
        var random = new Random(4);
        var theta = TestData.Uniform(random, n);
        var grads = Gradients(random, n);
        var got = Run(device, theta, grads);

        var want = TestData.ToDouble(theta);
        var (m, v) = (new double[n], new double[n]);
        for (int t = 1; t <= grads.Length; t++)
            for (int i = 0; i < n; i++)
            {
                double g = grads[t - 1].Average(draw => (double)draw[i]);
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                want[i] -= 0.05 * (m[i] / (1 - Math.Pow(0.9, t))) / (Math.Sqrt(v[i] / (1 - Math.Pow(0.999, t))) + 1e-8);
            }
        Tolerance.AssertClose(got, want, 1e-5, "per-image Adam over draws");
    }

    /// <summary>The CPU accelerator's vector code and the GPU kernel (run on the CPU accelerator) share one update: the same bits.</summary>
    [Fact]
    public void VectorAndScalarCodeGiveTheSameBits()
    {
        const int n = 4099; // several runs of a CPU launch, the last ending in a scalar tail
        var random = new Random(5);
        var theta = TestData.Uniform(random, n);
        var grads = Gradients(random, n);
        Assert.Equal(Run(TestDevices.PortableCpu, theta, grads), Run(TestDevices.Cpu, theta, grads));
    }

    [DeviceTheory]
    [MemberData(nameof(DevicesWithGpuShapes))]
    public void ElboDrawsGatherEachImagesMoments(string device)
    {
        const int rows = 5, k = 3, draws = 4;
        var random = new Random(6);
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (draw, amortized, optimized) = (d.Doubles(rows), d.Doubles(rows * 3), d.Doubles(rows * 3));
        var want = new double[2, rows * 3];
        for (int s = 0; s < draws; s++)
        {
            double[] first = [.. Enumerable.Range(0, rows).Select(_ => 50 * random.NextDouble())];
            double[] second = [.. Enumerable.Range(0, rows).Select(_ => 50 * random.NextDouble())];
            double[] klFirst = [.. Enumerable.Range(0, rows * k).Select(_ => random.NextDouble() - 0.2)];
            double[] klSecond = [.. Enumerable.Range(0, rows * k).Select(_ => random.NextDouble() - 0.2)];
            var p = new ElboDrawProblem { Rows = rows, Latent = k, First = s == 0 ? 1 : 0 };
            d.Device.Kernels.ElboDraw(p, d.Upload(first), d.Upload(klFirst), draw, amortized);
            d.Device.Kernels.ElboDraw(p with { Paired = 1 }, d.Upload(second), d.Upload(klSecond), draw, optimized);
            for (int i = 0; i < rows; i++)
            {
                double e = -first[i] - klFirst.Skip(i * k).Take(k).Sum(), f = -second[i] - klSecond.Skip(i * k).Take(k).Sum();
                want[0, i * 3] += e; want[0, i * 3 + 1] += e * e;
                want[1, i * 3] += f; want[1, i * 3 + 1] += f * f; want[1, i * 3 + 2] += (f - e) * (f - e);
            }
        }
        var got = new[] { DeviceArrays.Download(amortized), DeviceArrays.Download(optimized) };
        for (int which = 0; which < 2; which++)
            for (int i = 0; i < rows * 3; i++)
                Tolerance.AssertNear(got[which][i], want[which, i], 1e-12, 1e-9, $"moment {i % 3} of image {i / 3} ({(which == 0 ? "amortized" : "optimized")})");
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void LogMeanExpGivesTheDeltaMethodVariance(string device)
    {
        const int images = 3, samples = 40;
        var random = new Random(7);
        // Weights spread from even (image 0) to dominated by a few draws (image 2), around −800 so only a shifted sum is finite.
        var w = Enumerable.Range(0, images * samples).Select(i => -800 + (i / samples) * 3 * random.NextDouble() * (i % samples)).ToArray();
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (iwae, elbo, variance) = (d.Doubles(images), d.Doubles(images), d.Doubles(images));
        var weights = d.Doubles(w.Length);
        weights.Fill(w);
        d.Device.Kernels.LogMeanExp(images, samples, weights, iwae, elbo, variance);
        var got = DeviceArrays.Download(variance);
        for (int b = 0; b < images; b++)
        {
            var row = w[(b * samples)..((b + 1) * samples)];
            double max = row.Max(), sum = row.Sum(v => Math.Exp(v - max)), squares = row.Sum(v => Math.Exp(2 * (v - max)));
            double want = squares / (sum * sum) - 1.0 / samples;
            Tolerance.AssertNear(got[b], Math.Max(0, want), 1e-10, 1e-12, $"variance of image {b}");
        }
        Assert.Equal(0, got[0], 12); // equal weights: no spread
        Assert.True(got[2] > 0.1, $"a few dominant weights give a large variance; got {got[2]}");
    }

    public static TheoryData<string> Devices => TestDevices.All;
    public static TheoryData<string> DevicesWithGpuShapes => TestDevices.AllWithGpuShapes;
}
