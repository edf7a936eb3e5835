using IlgpuVae.Disentanglement;
using Xunit.Abstractions;

namespace IlgpuVae.Tests.Disentanglement;

/// <summary>
/// The metrics on representations whose answer is known: the true factors score ≈ 1, a rotation of them clearly lower,
/// noise ≈ 0 (≈ chance for the classifier scores), and a duplicated factor lowers MIG but not informativeness. Small
/// sizes (a few hundred points) keep these fast; the factors have 3, 4 and 5 values.
/// </summary>
public sealed class DisentanglementMetricTests(ITestOutputHelper log)
{
    static readonly int[] Classes = [3, 4, 5];

    static readonly DisentanglementOptions Small = new()
    {
        TrainPoints = 600, TestPoints = 300, ScoreBatch = 32, BetaVaeTrain = 200, BetaVaeEval = 100,
        FactorVaeTrain = 200, FactorVaeEval = 100, FactorVaeVariance = 1000,
    };

    DisentanglementResult Measure(Func<float[], float[]> encode, int dim)
    {
        var result = DisentanglementMetrics.Measure(encode, dim, new SyntheticTruth(Classes), Small, seed: 7);
        log.WriteLine(string.Join(", ", result.ToMetrics().Select(kv => $"{kv.Key} {kv.Value:F3}")));
        return result;
    }

    [Fact]
    public void TheTrueFactorsScoreAboutOne()
    {
        var r = Measure(Representations.TrueFactors(Classes), Classes.Length);
        Assert.InRange(r.Mig, 0.95, 1.0);
        Assert.InRange(r.DciDisentanglement, 0.9, 1.0);
        Assert.InRange(r.BetaVae.Eval, 0.95, 1.0);
        Assert.InRange(r.FactorVae.Eval, 0.95, 1.0);
        Assert.InRange(r.DciInformativeness.Test, 0.95, 1.0);
        Assert.InRange(r.Modularity, 0.95, 1.0);
    }

    [Fact]
    public void ARotationOfThemScoresClearlyLower()
    {
        var truth = Measure(Representations.TrueFactors(Classes), Classes.Length);
        var rotated = Measure(Representations.Rotated(Classes, seed: 3), Classes.Length);
        Assert.True(rotated.Mig < truth.Mig - 0.3, $"MIG {rotated.Mig} rotated against {truth.Mig}");
        Assert.True(rotated.DciDisentanglement < truth.DciDisentanglement - 0.3, $"DCI {rotated.DciDisentanglement} rotated against {truth.DciDisentanglement}");
        // FactorVAE's least-variance vote survives a mild mixing best of all the scores: lower, not far lower.
        Assert.True(rotated.FactorVae.Eval < truth.FactorVae.Eval - 0.03, $"FactorVAE {rotated.FactorVae.Eval} rotated against {truth.FactorVae.Eval}");
        Assert.True(rotated.BetaVae.Eval < truth.BetaVae.Eval - 0.1, $"BetaVAE {rotated.BetaVae.Eval} rotated against {truth.BetaVae.Eval}");
        Assert.True(rotated.Sap < truth.Sap - 0.1, $"SAP {rotated.Sap} rotated against {truth.Sap}");
    }

    [Fact]
    public void NoiseScoresAboutZeroOrChance()
    {
        var r = Measure(Representations.Noise(Classes.Length, 4, seed: 5), 4);
        double chance = 1.0 / Classes.Length;
        Assert.InRange(r.Mig, 0, 0.05);
        Assert.InRange(r.DciDisentanglement, 0, 0.25);
        Assert.InRange(r.Sap, 0, 0.05);
        Assert.InRange(r.BetaVae.Eval, chance - 0.15, chance + 0.15);
        Assert.InRange(r.FactorVae.Eval, chance - 0.15, chance + 0.2);
        Assert.InRange(r.Explicitness.Test, 0.4, 0.6);
    }

    [Fact]
    public void ADuplicatedFactorLowersMigButNotInformativeness()
    {
        var truth = Measure(Representations.TrueFactors(Classes), Classes.Length);
        var duplicated = Measure(Representations.Duplicated(Classes), Classes.Length + 1);
        // Factor 0 is now in two dimensions: its gap is 0, the others' stay 1.
        Assert.InRange(duplicated.Mig, truth.Mig * 2 / 3 - 0.05, truth.Mig * 2 / 3 + 0.05);
        Assert.InRange(duplicated.DciInformativeness.Test, truth.DciInformativeness.Test - 0.02, 1.0);
    }
}
