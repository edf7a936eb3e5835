using IlgpuVae.Data;
using IlgpuVae.Evaluation;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;
using IlgpuVae.Training;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// Properties of the evaluation on a briefly trained model: the IWAE bound is tighter than the ELBO and tightens
/// with K, K = 1 is the ELBO in expectation, 0 ≤ MI ≤ log N, and the numbers repeat.
/// </summary>
public sealed class EvaluatorTests
{
    const int Dim = 24, Rows = 192, Batch = 32;

    static float[] Patterns()
    {
        var random = new Random(8);
        var prototypes = Enumerable.Range(0, 6).Select(_ => Enumerable.Range(0, Dim).Select(_ => random.NextDouble() < 0.5 ? 0.95f : 0.05f).ToArray()).ToArray();
        return Enumerable.Range(0, Rows * Dim).Select(i => prototypes[i / Dim % 6][i % Dim]).ToArray();
    }

    static EvalResult[] TrainAndEvaluate(string device, params int[] importanceSamples)
    {
        var dev = TestDevices.Get(device);
        var objective = ObjectiveSpec.Preset("vae", 3);
        using var rig = new TrainingRig(dev, new ModelSpec(Dim, [16], 3, [16]), Patterns(), Batch, objective, initSeed: 2, trainSeed: 3);
        rig.Epochs(40);
        using var test = new DeviceDataSet(dev, Patterns()[..(64 * Dim)], 64, Dim);
        return importanceSamples.Select(k => Evaluator.Run(rig.Model, objective, test,
            new EvalOptions { ImportanceSamples = k, ElboSamples = 8, MmdSamples = 64 }, binarize: false)).ToArray();
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void ImportanceWeightingTightensTheBound(string device)
    {
        var r = TrainAndEvaluate(device, 1, 10, 100, 100);
        double elbo = r[0].NegativeElbo;
        // K = 1 is a one-draw ELBO: equal to the −ELBO in expectation (8 draws average the latter).
        Tolerance.AssertNear(r[0].IwaeNll, elbo, 0.05, 0.5, "IWAE K=1 vs −ELBO");
        Assert.True(r[1].IwaeNll <= elbo, $"K=10 {r[1].IwaeNll} vs −ELBO {elbo}");
        Assert.True(r[2].IwaeNll <= r[1].IwaeNll + 0.05, $"K=100 {r[2].IwaeNll} vs K=10 {r[1].IwaeNll}");
        Assert.Equal(r[2].IwaeNll, r[3].IwaeNll); // the draws are keyed by the seed: the same numbers again
        Assert.Equal(r[0].BitsPerDim, r[0].IwaeNll / (Dim * Math.Log(2)), 12);
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void MutualInformationIsBetweenZeroAndLogN(string device)
    {
        var r = TrainAndEvaluate(device, 0)[0];
        Assert.InRange(r.MutualInformation, 0, Math.Log(r.Images) + 1e-6);
        // A trained VAE on six patterns uses its code: far from 0.
        Assert.True(r.MutualInformation > 0.5, $"MI {r.MutualInformation}, KL {r.Kl}, active units {r.ActiveUnits}, terms {r.Terms}");
        Assert.InRange(r.ActiveUnits, 1, 3);
        Assert.Equal(3, r.KlPerDimension.Length);
        Tolerance.AssertNear(r.Kl, r.Terms.Kl, 0.05, 0.05, "Σ per-dimension KL vs KL");
        Assert.True(double.IsFinite(r.MmdAggregate));
        Assert.True(double.IsNaN(r.IwaeNll));
    }

    public static TheoryData<string> Devices => TestDevices.All;
}
