using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Kernels;

/// <summary>
/// β-TC-VAE's minibatch-weighted decomposition (<see cref="TotalCorrelation"/>): the rows' log-sum-exps and terms against
/// a double-precision reference written from the paper's formulas, and ∂/∂z, ∂/∂μ, ∂/∂log σ² of a weighted sum of the three
/// terms against central differences of that reference — on every accelerator, and with the GPU tiles in every launch shape
/// (the small shape's blocks of 4 rows cross several tiles on each side).
/// </summary>
public sealed class TotalCorrelationTests
{
    public static TheoryData<string, int, int> Cases()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var device in TestDevices.NamesWithGpuShapes)
            foreach (var (b, k) in new[] { (7, 3), (13, 5), (1, 2) })
                data.Add(device, b, k);
        return data;
    }

    const double LogNormalizer = 6.5;
    // Distinct weights, so a term taken with another's weight fails.
    static readonly double[] Weights = [0.7, 2.5, 1.3];

    [DeviceTheory]
    [MemberData(nameof(Cases))]
    public void TermsAndGradientsMatchTheReference(string device, int b, int k)
    {
        var random = new Random(b * 31 + k);
        float[] z = TestData.Normal(random, b * k, 1.2), heads = new float[b * 2 * k];
        for (int i = 0; i < b; i++)
            for (int t = 0; t < k; t++)
            {
                heads[i * 2 * k + t] = (float)(random.NextDouble() * 2 - 1);
                heads[i * 2 * k + k + t] = (float)(random.NextDouble() * 2.4 - 1.6);
            }
        float[] dzStart = TestData.Uniform(random, b * k), dHeadsStart = TestData.Uniform(random, b * 2 * k);

        using var d = new DeviceArrays(TestDevices.Get(device));
        var p = new TcProblem
        {
            B = b, Latent = k, LogNormalizer = LogNormalizer,
            MiWeight = (float)(Weights[0] / b), TcWeight = (float)(Weights[1] / b), DwklWeight = (float)(Weights[2] / b),
        };
        var (zView, headsView) = (d.Upload(z), d.Upload(heads));
        var (lse, rowTerms, dz, dHeads) = (d.Doubles(b * (k + 1)), d.Doubles(b * 3), d.Upload(dzStart), d.Upload(dHeadsStart));
        d.Device.Kernels.TotalCorrelationRows(p, zView, headsView, lse, rowTerms, dz);
        d.Device.Kernels.TotalCorrelationColumns(p, zView, headsView, lse, dHeads);

        var (zd, hd) = (TestData.ToDouble(z), TestData.ToDouble(heads));
        var (wantLse, wantTerms) = Reference(zd, hd, b, k);
        var gotLse = DeviceArrays.Download(lse);
        for (int i = 0; i < gotLse.Length; i++) Tolerance.AssertNear(gotLse[i], wantLse[i], 1e-9, 1e-9, $"log-sum-exp {i}");
        var gotTerms = DeviceArrays.Download(rowTerms);
        for (int i = 0; i < gotTerms.Length; i++) Tolerance.AssertNear(gotTerms[i], wantTerms[i], 1e-9, 1e-9, $"row term {i}");

        // The kernels add into what dz and dHeads held.
        var (wantDz, wantDHeads) = CentralDifferences(zd, hd, b, k);
        Tolerance.AssertClose(DeviceArrays.Download(dz), wantDz.Select((g, i) => dzStart[i] + g).ToArray(), 1e-5, "dz");
        Tolerance.AssertClose(DeviceArrays.Download(dHeads), wantDHeads.Select((g, i) => dHeadsStart[i] + g).ToArray(), 1e-5, "dHeads");
    }

    /// <summary>Without weights the rows' launch leaves dz alone (evaluation), and a code far from every other posterior still has finite terms.</summary>
    [DeviceTheory]
    [MemberData(nameof(DeviceNames))]
    public void WithoutWeightsDzIsUntouchedAndFarCodesStayFinite(string device)
    {
        const int b = 6, k = 4;
        var random = new Random(3);
        float[] z = TestData.Normal(random, b * k), heads = TestData.Uniform(random, b * 2 * k);
        for (int t = 0; t < k; t++)
        {
            z[t] = 40f;                      // 40 from every mean: its log-densities under the others are about −800 …
            heads[2 * k + k + t] = -12f;     // … and under a narrow posterior about −10⁸.
        }
        using var d = new DeviceArrays(TestDevices.Get(device));
        var (lse, rowTerms, dz) = (d.Doubles(b * (k + 1)), d.Doubles(b * 3), d.Upload(Enumerable.Repeat(0.5f, b * k).ToArray()));
        d.Device.Kernels.TotalCorrelationRows(new TcProblem { B = b, Latent = k, LogNormalizer = LogNormalizer }, d.Upload(z), d.Upload(heads), lse, rowTerms, dz);
        Assert.All(DeviceArrays.Download(dz), g => Assert.Equal(0.5f, g));
        var (_, want) = Reference(TestData.ToDouble(z), TestData.ToDouble(heads), b, k);
        var got = DeviceArrays.Download(rowTerms);
        for (int i = 0; i < got.Length; i++) Tolerance.AssertNear(got[i], want[i], 1e-9, 1e-7, $"row term {i}");
    }

    public static TheoryData<string> DeviceNames => TestDevices.AllWithGpuShapes;

    /// <summary>The reference's own gradient check would be circular; its terms summing to log q(z|x) − log p(z) is not.</summary>
    [Fact]
    public void TheReferencesTermsSumToTheSingleSampleKl()
    {
        const int b = 5, k = 3;
        var random = new Random(8);
        double[] z = TestData.ToDouble(TestData.Normal(random, b * k)), heads = TestData.ToDouble(TestData.Uniform(random, b * 2 * k));
        var (_, terms) = Reference(z, heads, b, k);
        for (int i = 0; i < b; i++)
        {
            double kl = 0;
            for (int t = 0; t < k; t++)
                kl += LogQ(z[i * k + t], heads[i * 2 * k + t], heads[i * 2 * k + k + t]) + 0.5 * (Math.Log(2 * Math.PI) + z[i * k + t] * z[i * k + t]);
            Tolerance.AssertNear(terms[3 * i] + terms[3 * i + 1] + terms[3 * i + 2], kl, 1e-12, 1e-12, $"row {i}");
        }
    }

    static double LogQ(double z, double mu, double logVar) => -0.5 * (Math.Log(2 * Math.PI) + logVar + (z - mu) * (z - mu) * Math.Exp(-logVar));

    static double LogSumExp(IEnumerable<double> values)
    {
        double max = values.Max();
        return max + Math.Log(values.Sum(v => Math.Exp(v - max)));
    }

    /// <summary>lse [B, k + 1] and rowTerms [B, 3] as <see cref="TotalCorrelation"/> defines them, from the formulas directly.</summary>
    static (double[] Lse, double[] Terms) Reference(double[] z, double[] heads, int b, int k)
    {
        var (lse, terms) = (new double[b * (k + 1)], new double[b * 3]);
        double L(int i, int j, int t) => LogQ(z[i * k + t], heads[j * 2 * k + t], heads[j * 2 * k + k + t]);
        for (int i = 0; i < b; i++)
        {
            int row = i;
            lse[i * (k + 1)] = LogSumExp(Enumerable.Range(0, b).Select(j => Enumerable.Range(0, k).Sum(t => L(row, j, t))));
            double logQz = lse[i * (k + 1)] - LogNormalizer, logProduct = 0, own = 0, prior = 0;
            for (int t = 0; t < k; t++)
            {
                int dim = t;
                lse[i * (k + 1) + 1 + t] = LogSumExp(Enumerable.Range(0, b).Select(j => L(row, j, dim)));
                logProduct += lse[i * (k + 1) + 1 + t] - LogNormalizer;
                own += L(i, i, t);
                prior += -0.5 * (Math.Log(2 * Math.PI) + z[i * k + t] * z[i * k + t]);
            }
            (terms[3 * i], terms[3 * i + 1], terms[3 * i + 2]) = (own - logQz, logQz - logProduct, logProduct - prior);
        }
        return (lse, terms);
    }

    /// <summary>Σᵢ Σ_term weight/B · term, the quantity whose gradient the kernels compute.</summary>
    static double Objective(double[] z, double[] heads, int b, int k)
    {
        var (_, terms) = Reference(z, heads, b, k);
        double sum = 0;
        for (int i = 0; i < terms.Length; i++) sum += Weights[i % 3] / b * terms[i];
        return sum;
    }

    static (double[] Dz, double[] DHeads) CentralDifferences(double[] z, double[] heads, int b, int k)
    {
        const double h = 1e-5;
        double[] Differences(double[] x) => x.Select((keep, i) =>
        {
            x[i] = keep + h; double up = Objective(z, heads, b, k);
            x[i] = keep - h; double down = Objective(z, heads, b, k);
            x[i] = keep;
            return (up - down) / (2 * h);
        }).ToArray();
        return (Differences(z), Differences(heads));
    }
}
