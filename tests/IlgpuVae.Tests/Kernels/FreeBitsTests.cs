using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// Free bits' kernels — each dimension's batch-mean KL and gradient weight, the loss reduction's clamped KL term and the
/// reparameterization's backward with a weight per dimension — against double math, and the three together against
/// central differences of the clamped loss, with dimensions clearly above and clearly below the threshold.
/// </summary>
public sealed class FreeBitsTests
{
    public static TheoryData<string> Devices => TestDevices.AllWithGpuShapes;

    // Rows over a GPU group of 16 (several strides per thread) and dimensions over several CPU bands.
    const int B = 37, K = 6;
    const double Threshold = 0.5;
    // Dimensions 0, 2 and 5 sit far above the threshold (|μ| near 1.5: KL about 1.1 nats), the others far below (about 0.02).
    static readonly bool[] Above = [true, false, true, false, false, true];

    static (float[] Heads, float[] Eps) Inputs(int seed)
    {
        var random = new Random(seed);
        var heads = new float[B * 2 * K];
        for (int b = 0; b < B; b++)
            for (int j = 0; j < K; j++)
            {
                double center = Above[j] ? (j % 2 == 0 ? 1.5 : -1.5) : 0;
                heads[b * 2 * K + j] = (float)(center + 0.3 * (2 * random.NextDouble() - 1));
                heads[b * 2 * K + K + j] = (float)(0.2 * (2 * random.NextDouble() - 1));
            }
        return (heads, TestData.Normal(random, B * K));
    }

    static double[] KlElements(float[] heads)
    {
        var kl = new double[B * K];
        for (int b = 0; b < B; b++)
            for (int j = 0; j < K; j++)
            {
                double mu = heads[b * 2 * K + j], lv = heads[b * 2 * K + K + j];
                kl[b * K + j] = 0.5 * (mu * mu + Math.Exp(lv) - 1 - lv);
            }
        return kl;
    }

    static double[] Means(double[] kl) =>
        Enumerable.Range(0, K).Select(j => Enumerable.Range(0, B).Sum(b => kl[b * K + j]) / B).ToArray();

    /// <summary>The inputs are what the tests say they are: every dimension well away from the kink.</summary>
    [Fact]
    public void TheCaseHasDimensionsClearlyOnBothSidesOfTheThreshold()
    {
        var means = Means(KlElements(Inputs(1).Heads));
        for (int j = 0; j < K; j++)
            Assert.True(Above[j] ? means[j] > Threshold + 0.3 : means[j] < Threshold - 0.3, $"dimension {j}: mean KL {means[j]}");
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void MeansAndGradientWeightsMatchReference(string device)
    {
        var kl = KlElements(Inputs(1).Heads);
        const float w = 0.37f;
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (means, scales) = (d.Doubles(K), d.Floats(K));
        d.Device.Kernels.FreeBitsDimensions(new FreeBitsProblem { B = B, Latent = K, Threshold = Threshold, KlGradScale = w }, d.Upload(kl), means, scales);
        var want = Means(kl);
        var got = DeviceArrays.Download(means);
        for (int j = 0; j < K; j++) Tolerance.AssertNear(got[j], want[j], 1e-13, 0, $"mean of dimension {j}");
        Assert.Equal(Above.Select(a => a ? w : 0f).ToArray(), DeviceArrays.Download(scales));
    }

    /// <summary>The loss's KL term is Σⱼ max(λ, mⱼ) weighted; terms[Kl] stays the unclamped mean (train_kl).</summary>
    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void TheLossClampsTheKlTermAndTheKlTermStaysUnclamped(string device)
    {
        var kl = KlElements(Inputs(2).Heads);
        var random = new Random(3);
        var nll = Enumerable.Range(0, B).Select(_ => 50 + 10 * random.NextDouble()).ToArray();
        var mmdRows = Enumerable.Range(0, 2 * B).Select(_ => 1e-3 * (random.NextDouble() - 0.5)).ToArray();
        const float klWeight = 0.6f, mmdWeight = 10f;
        using var d = new DeviceArrays(TestDevices.Get(device));
        var k = d.Device.Kernels;
        var (means, scales, terms, totals) = (d.Doubles(K), d.Floats(K), d.Doubles(Term.Count), d.Doubles(Term.Summed));
        var klView = d.Upload(kl);
        k.FreeBitsDimensions(new FreeBitsProblem { B = B, Latent = K, Threshold = Threshold, KlGradScale = klWeight / B }, klView, means, scales);
        k.LossTerms(new LossWeights { B = B, KlTerms = B * K, MmdRows = 2 * B, Kl = klWeight, Mmd = mmdWeight, ClampedDims = K, FreeBits = Threshold },
            d.Upload(nll), klView, means, d.Upload(mmdRows), default, d.Upload(new int[1]), terms, totals);
        var got = DeviceArrays.Download(terms);

        double recon = nll.Sum() / B, klMean = kl.Sum() / B, mmd = mmdRows.Sum();
        double clamped = Means(kl).Sum(m => Math.Max(Threshold, m));
        Assert.True(clamped > klMean + 1, "the clamp raises the KL term");
        Tolerance.AssertNear(got[Term.Kl], klMean, 1e-13, 0, "kl (unclamped)");
        Tolerance.AssertNear(got[Term.Loss], recon + klWeight * clamped + mmdWeight * mmd, 1e-13, 0, "loss (clamped)");
    }

    /// <summary>Element (b, j) of the backward takes dimension j's weight: dimensions below the threshold only pass dz on.</summary>
    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void BackwardPerDimensionMatchesReference(string device)
    {
        var (heads, eps) = Inputs(4);
        var dz = TestData.Uniform(new Random(5), B * K);
        var weights = Above.Select((a, j) => a ? 0.3f + 0.1f * j : 0f).ToArray();
        using var d = new DeviceArrays(TestDevices.Get(device));
        var dHeads = d.Floats(B * 2 * K);
        d.Device.Kernels.ReparameterizeBackwardPerDimension(B, K, d.Upload(weights), d.Upload(heads), d.Upload(eps), d.Upload(dz), dHeads);
        var want = new double[B * 2 * K];
        for (int b = 0; b < B; b++)
            for (int j = 0; j < K; j++)
            {
                double mu = heads[b * 2 * K + j], lv = heads[b * 2 * K + K + j], g = dz[b * K + j], w = weights[j];
                want[b * 2 * K + j] = g + w * mu;
                want[b * 2 * K + K + j] = g * eps[b * K + j] * 0.5 * Math.Exp(0.5 * lv) + w * 0.5 * (Math.Exp(lv) - 1);
            }
        Tolerance.AssertClose(DeviceArrays.Download(dHeads), want, 1e-6, "dHeads");
    }

    /// <summary>
    /// L = Σ r ⊙ z + w·B·Σⱼ max(λ, mⱼ), all on the device: the gradient from free bits' weights and the per-dimension backward
    /// against central differences of the forward kernels, along directions in the heads of the dimensions above the threshold,
    /// of those below it (whose KL must give nothing) and of all. The steps move no mean anywhere near λ.
    /// </summary>
    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void GradientMatchesFiniteDifferencesAwayFromTheKink(string device)
    {
        var (heads, eps) = Inputs(6);
        var random = new Random(7);
        var r = TestData.Uniform(random, B * K);
        const float klWeight = 2.5f;
        using var d = new DeviceArrays(TestDevices.Get(device));
        var k = d.Device.Kernels;
        var (z, kl, means, scales, terms, totals, dHeads) = (d.Floats(B * K), d.Doubles(B * K), d.Doubles(K), d.Floats(K), d.Doubles(Term.Count),
            d.Doubles(Term.Summed), d.Floats(B * 2 * K));
        var (epsView, nll, mmdRows, faults) = (d.Upload(eps), d.Upload(new double[B]), d.Upload(new double[1]), d.Upload(new int[1]));
        var problem = new FreeBitsProblem { B = B, Latent = K, Threshold = Threshold, KlGradScale = klWeight };
        var weights = new LossWeights { B = B, KlTerms = B * K, Kl = klWeight * B, ClampedDims = K, FreeBits = Threshold };
        double Loss(float[] h)
        {
            k.Reparameterize(B, K, null, false, d.Upload(h), epsView, z, kl);
            k.FreeBitsDimensions(problem, kl, means, scales);
            k.LossTerms(weights, nll, kl, means, mmdRows, default, faults, terms, totals);
            return DeviceArrays.Download(z).Zip(r, (a, b) => (double)a * b).Sum() + DeviceArrays.Download(terms)[Term.Loss];
        }
        Loss(heads);
        k.ReparameterizeBackwardPerDimension(B, K, scales, d.Upload(heads), epsView, d.Upload(r), dHeads);
        var grad = DeviceArrays.Download(dHeads);

        // The same derivative without the KL term: what dimensions below the threshold must show.
        var withoutKl = new double[grad.Length];
        for (int b = 0; b < B; b++)
            for (int j = 0; j < K; j++)
                withoutKl[b * 2 * K + K + j] = r[b * K + j] * eps[b * K + j] * 0.5 * Math.Exp(0.5 * heads[b * 2 * K + K + j]);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < K; j++) withoutKl[b * 2 * K + j] = r[b * K + j];

        foreach (var (name, inDirection) in new (string, Func<int, bool>)[]
                 {
                     ("above", j => Above[j]), ("below", j => !Above[j]), ("all", _ => true),
                 })
        {
            var v = TestData.Normal(random, heads.Length);
            for (int i = 0; i < v.Length; i++)
                if (!inDirection(i % (2 * K) % K)) v[i] = 0;
            const float step = 1e-2f;
            double numeric = (Loss(heads.Select((h, i) => h + step * v[i]).ToArray()) - Loss(heads.Select((h, i) => h - step * v[i]).ToArray())) / (2 * step);
            double analytic = grad.Zip(v, (g, u) => (double)g * u).Sum();
            Tolerance.AssertNear(numeric, analytic, 2e-3, 2e-3, $"directional derivative, dimensions {name}");
            if (name == "below")
                Tolerance.AssertNear(analytic, withoutKl.Zip(v, (g, u) => g * u).Sum(), 1e-5, 1e-5, "below the threshold the KL adds no gradient");
        }
    }
}
