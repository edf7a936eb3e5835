using ILGPU.Runtime;
using IlgpuVae.Data;
using IlgpuVae.Evaluation;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// The inference gaps on a briefly trained model: the optimized q* is no worse than the encoder's q and no better than
/// log p̂(x), within their Monte Carlo errors; an encoder made useless leaves a large amortization gap that the
/// optimization closes; the other numbers do not change when the gaps are measured; and every device gives the same
/// gaps for the same weights.
/// </summary>
public sealed class InferenceGapTests
{
    const int Dim = 24, Rows = 192, Batch = 32, Images = 48;

    static float[] Patterns()
    {
        var random = new Random(8);
        var prototypes = Enumerable.Range(0, 6).Select(_ => Enumerable.Range(0, Dim).Select(_ => random.NextDouble() < 0.5 ? 0.95f : 0.05f).ToArray()).ToArray();
        return Enumerable.Range(0, Rows * Dim).Select(i => prototypes[i / Dim % 6][i % Dim]).ToArray();
    }

    static readonly EvalOptions Options = new()
    {
        ImportanceSamples = 100, ElboSamples = 2, MmdSamples = Images, GapImages = Images, GapSteps = 300, GapDraws = 1,
        GapWindow = 25, GapTolerance = 0.005, GapElboDraws = 24, FlowDraws = 2, MiLimit = 2,
    };

    /// <summary>The trained Gaussian model's evaluation on the CPU accelerator, which several cases compare with.</summary>
    static readonly Lazy<EvalResult> Reference = new(() => Evaluate(TestDevices.Cpu, false, Options));

    static ModelSpec Spec(bool flow) => new(Dim, [16], 3, [16], Flow: flow ? new FlowSpec(1, [8], 4) : null);

    /// <summary>The weights of a model trained on the CPU accelerator, one per posterior.</summary>
    static readonly Lazy<float[]>[] Trained = [new(() => Train(flow: false)), new(() => Train(flow: true))];

    static float[] Train(bool flow)
    {
        using var rig = new TrainingRig(TestDevices.Get(TestDevices.Cpu), Spec(flow), Patterns(), Batch, ObjectiveSpec.Preset("vae", 3), initSeed: 2, trainSeed: 3);
        rig.Epochs(40);
        return DeviceArrays.Download(rig.Model.Parameters);
    }

    static EvalResult Evaluate(string device, bool flow, EvalOptions options, Action<VaeModel, float[]>? change = null)
    {
        var dev = TestDevices.Get(device);
        // A batch of 800 rows: the importance sampling decodes 8 images × K = 100 draws at a time.
        using var model = new VaeModel(dev, Spec(flow), 800);
        var weights = (float[])Trained[flow ? 1 : 0].Value.Clone();
        change?.Invoke(model, weights);
        model.Parameters.CopyFromCPU(weights);
        using var test = new DeviceDataSet(dev, Patterns()[..(Images * Dim)], Images, Dim);
        return Evaluator.Run(model, ObjectiveSpec.Preset("vae", 3), test, options, binarize: false);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheOptimizedPosteriorLiesBetweenTheAmortizedOneAndTheLikelihood(bool flow)
    {
        var r = flow ? Evaluate(TestDevices.Cpu, flow, Options) : Reference.Value;
        var g = r.Gaps!;
        Assert.Equal(Images, g.Images);
        Assert.InRange(g.Steps, Options.GapWindow * 2, Options.GapSteps);
        Assert.True(g.Steps % Options.GapWindow == 0, $"{g.Steps} steps: the rule stops at the end of a window");
        Assert.True(g.AmortizationGap >= -3 * g.AmortizationGapError, $"ELBO(q*) {g.OptimizedElbo} below ELBO(q) {g.AmortizedElbo}: {g}");
        Assert.True(g.ApproximationGap >= -3 * g.ApproximationGapError, $"ELBO(q*) {g.OptimizedElbo} above log p̂(x) {g.LogLikelihood}: {g}");
        Assert.Equal(g.LogLikelihood - g.OptimizedElbo, g.ApproximationGap, 9);
        Assert.Equal(g.OptimizedElbo - g.AmortizedElbo, g.AmortizationGap, 9);
        // Every image is in the gaps' set here: their log p̂(x) is the IWAE estimate's, and the amortized ELBO the −ELBO's.
        Assert.Equal(-r.IwaeNll, g.LogLikelihood, 9);
        Tolerance.AssertNear(g.AmortizedElbo, -r.NegativeElbo, 0.02, 0.3, "ELBO(q) vs the test −ELBO");
        foreach (double error in new[] { g.LogLikelihoodError, g.AmortizedElboError, g.OptimizedElboError, g.ApproximationGapError, g.AmortizationGapError })
            Assert.InRange(error, 1e-9, 1);
        // The paired draws make the amortization gap's error smaller than either ELBO's.
        Assert.True(g.AmortizationGapError < g.AmortizedElboError, $"{g}");
        Assert.Equal(Images, r.ToJson()[Metrics.MetricKey.GapImages]);
    }

    [Fact]
    public void MeasuringTheGapsLeavesTheOtherNumbersAlone()
    {
        var without = Evaluate(TestDevices.Cpu, false, Options with { GapImages = 0 }).ToJson();
        var with = Reference.Value.ToJson();
        foreach (var (key, value) in without)
        {
            if (value is null) Assert.NotNull(with[key]);
            else Assert.Equal(System.Text.Json.JsonSerializer.Serialize(value), System.Text.Json.JsonSerializer.Serialize(with[key]));
        }
        Assert.Null(without[Metrics.MetricKey.AmortizationGap]);
    }

    [Fact]
    public void AUselessEncoderLeavesALargeAmortizationGapThatTheOptimizationCloses()
    {
        var good = Reference.Value.Gaps!;
        // μ = 0 and log σ² = 0 for every image: q(z|x) is the prior whatever x.
        var bad = Evaluate(TestDevices.Cpu, false, Options, (model, weights) =>
        {
            foreach (var name in new[] { "encoder.mu.weight", "encoder.mu.bias", "encoder.logvar.weight", "encoder.logvar.bias" })
                Array.Clear(weights, model.Layout[name].Offset, model.Layout[name].Length);
        }).Gaps!;
        Assert.True(bad.AmortizationGap > 3 * good.AmortizationGap + 2, $"useless encoder: {bad}; trained: {good}");
        Assert.True(bad.AmortizationGap > 20 * bad.AmortizationGapError, $"{bad}");
        // From the prior, Adam finds posteriors nearly as good as from the trained encoder's.
        Assert.True(good.OptimizedElbo - bad.OptimizedElbo < 0.1 * bad.AmortizationGap, $"useless encoder: {bad}; trained: {good}");
    }

    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void EveryDeviceGivesTheSameGaps(string device)
    {
        var want = Reference.Value.Gaps!;
        var got = Evaluate(device, false, Options).Gaps!;
        Tolerance.AssertNear(got.LogLikelihood, want.LogLikelihood, 1e-4, 1e-3, "log p̂(x)");
        Tolerance.AssertNear(got.AmortizedElbo, want.AmortizedElbo, 1e-4, 1e-3, "ELBO(q)");
        // The optimization's float sums differ between backends, and a difference can grow over its steps.
        Tolerance.AssertNear(got.OptimizedElbo, want.OptimizedElbo, 0, 0.05 + 3 * want.OptimizedElboError, "ELBO(q*)");
        Tolerance.AssertNear(got.AmortizationGap, want.AmortizationGap, 0, 0.05 + 3 * want.AmortizationGapError, "amortization gap");
    }

    [Fact]
    public void BadSettingsAreRefusedByName()
    {
        string Refusal(EvalOptions o) => Assert.Throws<ArgumentException>(() => o.Validate()).Message;
        Assert.StartsWith("EvalOptions.GapImages needs the IWAE estimate", Refusal(new EvalOptions { GapImages = 10, ImportanceSamples = 0 }));
        Assert.StartsWith("EvalOptions.GapElboDraws must be at least 2", Refusal(new EvalOptions { GapElboDraws = 1 }));
        Assert.StartsWith("EvalOptions.GapLearningRate must be positive", Refusal(new EvalOptions { GapLearningRate = 0 }));
        Assert.StartsWith("EvalOptions.GapWindow must be positive", Refusal(new EvalOptions { GapWindow = 0 }));
    }

    public static TheoryData<string> Devices => TestDevices.All;
}
