using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>Bernoulli-with-logits and fixed-variance Gaussian −log p(x|z) per row and their gradients.</summary>
public sealed class LikelihoodTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    const int B = 5, D = 13;

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void BernoulliMatchesReference(string device)
    {
        var random = new Random(1);
        float[] logits = TestData.Uniform(random, B * D, -6, 6), x = TestData.Uniform(random, B * D, 0, 1);
        var (nll, grad) = RunBernoulli(device, logits, x, 0.25f);
        for (int b = 0; b < B; b++)
        {
            double want = Enumerable.Range(b * D, D).Sum(i => Reference.Softplus(logits[i]) - x[i] * logits[i]);
            Tolerance.AssertNear(nll[b], want, 1e-5, 1e-6, $"nll[{b}]");
        }
        Tolerance.AssertClose(grad, logits.Select((l, i) => 0.25 * (Reference.Sigmoid(l) - x[i])).ToArray(), 1e-6, "dlogits");
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void BernoulliIsExactForHugeLogits(string device)
    {
        float[] logits = [1000f, -1000f, 50f, -50f, 1000f, -1000f, 50f, -50f];
        float[] x = [1f, 0f, 1f, 0f, 0f, 1f, 0f, 1f];
        var (nll, grad) = RunBernoulli(device, logits, x, 1f, rows: 1, dim: 8);
        // Agreeing signs cost ≈ 0; disagreeing ones cost ≈ |l|: 1000 + 1000 + 50 + 50.
        Tolerance.AssertNear(nll[0], 2100, 1e-6, 1e-4, "nll");
        Assert.Equal([0f, 0f, 0f, 0f, 1f, -1f, 1f, -1f], grad.Select(g => MathF.Round(g, 6)).ToArray());
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void GaussianMatchesReference(string device)
    {
        var random = new Random(2);
        float[] mean = TestData.Uniform(random, B * D, -1, 2), x = TestData.Uniform(random, B * D, 0, 1);
        const float logVar = -1.3f, scale = 0.5f;
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (nll, grad) = (d.Doubles(B), d.Floats(B * D));
        d.Device.Kernels.Likelihood(Likelihood.Gaussian, logVar, B, D, scale, d.Upload(mean), d.Upload(x), nll, grad);
        var got = DeviceArrays.Download(nll);
        for (int b = 0; b < B; b++)
        {
            double want = Enumerable.Range(b * D, D).Sum(i =>
                0.5 * ((x[i] - mean[i]) * (x[i] - mean[i]) * Math.Exp(-logVar) + logVar + Math.Log(2 * Math.PI)));
            Tolerance.AssertNear(got[b], want, 1e-5, 1e-6, $"nll[{b}]");
        }
        Tolerance.AssertClose(DeviceArrays.Download(grad), mean.Select((m, i) => scale * (m - x[i]) * Math.Exp(-logVar)).ToArray(), 1e-6, "dmean");
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void ZeroScaleWritesNoGradient(string device)
    {
        using var d = new DeviceArrays(TestDevices.Get(device));
        var grad = d.Upload(Enumerable.Repeat(7f, B * D).ToArray());
        d.Device.Kernels.Likelihood(Likelihood.Bernoulli, 0, B, D, 0f, d.Upload(new float[B * D]), d.Upload(new float[B * D]), d.Doubles(B), grad);
        Assert.All(DeviceArrays.Download(grad), g => Assert.Equal(7f, g));
    }

    [DeviceTheory]
    [MemberData(nameof(AllKernels))]
    public void RepeatedXRowsServeEveryOutputRowOfTheirImage(string device)
    {
        // 12 output rows against 3 rows of x, 4 each (an image's importance samples), a width with vector tails.
        const int rows = 12, dim = 37, repeat = 4;
        var random = new Random(3);
        float[] output = TestData.Uniform(random, rows * dim, -4, 4), x = TestData.Uniform(random, rows / repeat * dim, 0, 1);
        foreach (var kind in new[] { Likelihood.Bernoulli, Likelihood.Gaussian })
        {
            using var d = new DeviceArrays(TestDevices.Get(device));
            var nll = d.Doubles(rows);
            d.Device.Kernels.Likelihood(kind, -0.5f, rows, dim, 0f, d.Upload(output), d.Upload(x), nll, default, xRepeat: repeat);
            var got = DeviceArrays.Download(nll);
            for (int b = 0; b < rows; b++)
            {
                double want = Enumerable.Range(0, dim).Sum(j =>
                {
                    double o = output[b * dim + j], xi = x[b / repeat * dim + j];
                    return kind == Likelihood.Bernoulli ? Reference.Softplus(o) - xi * o
                        : 0.5 * ((xi - o) * (xi - o) * Math.Exp(0.5) - 0.5 + Math.Log(2 * Math.PI));
                });
                Tolerance.AssertNear(got[b], want, 1e-5, 1e-6, $"{kind} nll[{b}]");
            }
        }
    }

    public static TheoryData<string> AllKernels => TestDevices.AllWithGpuShapes;

    static (double[] Nll, float[] Grad) RunBernoulli(string device, float[] logits, float[] x, float scale, int rows = B, int dim = D)
    {
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (nll, grad) = (d.Doubles(rows), d.Floats(rows * dim));
        d.Device.Kernels.Likelihood(Likelihood.Bernoulli, 0, rows, dim, scale, d.Upload(logits), d.Upload(x), nll, grad);
        return (DeviceArrays.Download(nll), DeviceArrays.Download(grad));
    }
}
