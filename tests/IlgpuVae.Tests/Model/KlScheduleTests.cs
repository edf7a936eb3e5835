using ILGPU.Runtime;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;
using IlgpuVae.Training;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// Free bits and a warm-up's KL weight in the whole device model: every term and gradient against the double-precision
/// reference, and finite differences of the device model's own loss — the whole of it, and the share the clamp adds —
/// with every latent dimension clearly above or clearly below the threshold, so no step crosses the kink; and the warm-up's
/// schedule, from its factor per step to the weight a trainer gives each step and reports per epoch. (A resumed warm-up's
/// bit identity is tested on whole runs: <see cref="Cli.KlScheduleRunTests"/>.)
/// </summary>
public sealed class KlScheduleTests
{
    public static TheoryData<string> Devices => TestDevices.AllWithGpuShapes;

    public static TheoryData<string, string> PresetsOnDevices() => TestDevices.Cross(["vae", "beta-vae", "infovae"]);

    const int Latent = 4, Batch = 7;
    const double Threshold = 0.4;
    // Dimensions 0 and 2 have heads biased far from the prior (their mean KL above 1 nat); 1 and 3 stay near it.
    static readonly bool[] Above = [true, false, true, false];

    static ModelCase Case(string preset, double freeBits, int seed = 3)
    {
        var spec = new ModelSpec(9, [8], Latent, [8], IlgpuVae.Kernels.Activation.Tanh);
        var c = ModelCase.Random(spec, ObjectiveSpec.Preset(preset, Latent) with { FreeBits = freeBits }, Batch, priorCount: 6, seed, weightScale: 0.3);
        c.Parameters["encoder.mu.bias"][0] = 1.6f;
        c.Parameters["encoder.mu.bias"][2] = -1.7f;
        return c;
    }

    static ReferenceVae.Result Reference(ModelCase c, double? klWeight = null) => new ReferenceVae(c.Spec, c.Objective, klWeight: klWeight).Evaluate(
        c.Parameters.ToDictionary(p => p.Key, p => TestData.ToDouble(p.Value)),
        TestData.ToDouble(c.X), TestData.ToDouble(c.Eps), TestData.ToDouble(c.Prior), c.Batch);

    static double[] DimensionMeans(ReferenceVae.Result r) => Enumerable.Range(0, Latent).Select(j =>
        Enumerable.Range(0, Batch).Average(b => 0.5 * (r.Mu[b * Latent + j] * r.Mu[b * Latent + j] + Math.Exp(r.LogVar[b * Latent + j]) - 1 - r.LogVar[b * Latent + j]))).ToArray();

    [Fact]
    public void TheCaseHasDimensionsClearlyOnBothSidesOfTheThreshold()
    {
        var means = DimensionMeans(Reference(Case("vae", Threshold)));
        for (int j = 0; j < Latent; j++)
            Assert.True(Above[j] ? means[j] > Threshold + 0.3 : means[j] < Threshold - 0.2, $"dimension {j}: mean KL {means[j]}");
    }

    static void AssertMatchesReference(ModelCase c, double? klWeight, string device, string what)
    {
        var want = Reference(c, klWeight);
        using var model = c.Load(device);
        var got = model.Run(c.Objective, c.Batch, backward: true, klWeight);
        Tolerance.AssertNear(got.Recon, want.Recon, 1e-4, 1e-6, $"{what}: recon");
        Tolerance.AssertNear(got.Kl, want.Kl, 1e-4, 1e-6, $"{what}: kl (unclamped)");
        Tolerance.AssertNear(got.Loss, want.Loss, 1e-4, 1e-6, $"{what}: loss");
        if (c.Objective.FreeBits > 0)
            Tolerance.AssertClose(DeviceArrays.Download(model.KlMeans, Latent).Select(m => (float)m).ToArray(), DimensionMeans(want), 1e-4, $"{what}: per-dimension KL means");
        foreach (var (tensor, data) in IlgpuVae.Model.ModelTensors.Read(model, gradients: true))
            Tolerance.AssertClose(data, want.Grads[tensor.Name], 1e-4, $"{what}: grad {tensor.Name}");
    }

    /// <summary>The clamped KL term and its gradient, which reaches the dimensions above the threshold alone.</summary>
    [DeviceTheory]
    [MemberData(nameof(PresetsOnDevices))]
    public void FreeBitsMatchTheDoublePrecisionReference(string preset, string device)
    {
        var c = Case(preset, Threshold);
        var want = Reference(c);
        Assert.True(want.Loss > Reference(Case(preset, 0)).Loss + 0.1, "the clamp raises the loss");
        AssertMatchesReference(c, klWeight: null, device, preset);
    }

    /// <summary>A warm-up's weight of the step reaches the loss and the gradient, with free bits and without.</summary>
    [DeviceTheory]
    [MemberData(nameof(PresetsOnDevices))]
    public void AWarmUpWeightMatchesTheDoublePrecisionReference(string preset, string device)
    {
        double weight = 0.37 * ObjectiveSpec.Preset(preset, Latent).KlWeight;
        AssertMatchesReference(Case(preset, 0), weight, device, $"{preset}, KL weight {weight}");
        AssertMatchesReference(Case(preset, Threshold), weight, device, $"{preset}, KL weight {weight}, free bits");
    }

    /// <summary>The warm-up's weight enters the gradient linearly: g(c) = g(0) + c·(g(1) − g(0)).</summary>
    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void TheWarmUpWeightScalesTheKlsShareOfTheGradient(string device)
    {
        var c = Case("vae", Threshold);
        using var model = c.Load(device);
        float[] Gradient(double weight)
        {
            model.Run(c.Objective, c.Batch, backward: true, weight);
            return DeviceArrays.Download(model.Gradients);
        }
        var (none, full, part) = (Gradient(0), Gradient(1), Gradient(0.25));
        var want = none.Select((g, i) => g + 0.25 * (full[i] - g)).ToArray();
        Tolerance.AssertClose(part, want, 1e-5, "gradient at a quarter of the KL weight");
        Assert.True(Tolerance.RelativeNormError(none, full.Select(v => (double)v).ToArray()) > 1e-3, "the KL's share of the gradient is not negligible");
    }

    /// <summary>Central differences of the device model's float32 loss along random directions (smooth activations, no kink crossed).</summary>
    [DeviceTheory]
    [MemberData(nameof(PresetsOnDevices))]
    public void DirectionalDerivativesMatchCentralDifferences(string preset, string device)
    {
        var c = Case(preset, Threshold);
        using var model = c.Load(device);
        model.Run(c.Objective, c.Batch, backward: true);
        var theta = DeviceArrays.Download(model.Parameters);
        var grad = DeviceArrays.Download(model.Gradients);
        var random = new Random(11);
        for (int direction = 0; direction < 3; direction++)
        {
            var v = TestData.Normal(random, theta.Length);
            double analytic = grad.Zip(v, (g, u) => (double)g * u).Sum();
            const float h = 2e-3f;
            double Loss(float step)
            {
                model.Parameters.CopyFromCPU(theta.Select((t, i) => t + step * v[i]).ToArray());
                return model.Run(c.Objective, c.Batch, backward: false).Loss;
            }
            Tolerance.AssertNear((Loss(h) - Loss(-h)) / (2 * h), analytic, 2e-2, 2e-2, $"{preset}, direction {direction}");
        }
    }

    /// <summary>
    /// The clamp's own share, L_free bits − L (the recon and MMD cancel): w·Σ over the dimensions below λ of (λ − mⱼ). Its
    /// derivative along the heads of the dimensions above the threshold is 0, along those below it −w·∂mⱼ: the device
    /// gradients' difference against central differences of the device losses' difference.
    /// </summary>
    [DeviceTheory]
    [MemberData(nameof(Devices))]
    public void TheClampsShareOfTheGradientMatchesCentralDifferences(string device)
    {
        var (clamped, plain) = (Case("beta-vae", Threshold), Case("beta-vae", 0));
        using var model = clamped.Load(device);
        var theta = DeviceArrays.Download(model.Parameters);
        float[] Gradient(ModelCase c)
        {
            model.Run(c.Objective, c.Batch, backward: true);
            return DeviceArrays.Download(model.Gradients);
        }
        var (a, b) = (Gradient(clamped), Gradient(plain));
        var layout = model.Layout;
        var random = new Random(13);
        foreach (bool above in new[] { true, false })
        {
            // A direction in the heads' rows (weights and bias of μ and log σ²) of the chosen dimensions only.
            var v = new float[theta.Length];
            foreach (var name in new[] { "encoder.mu.weight", "encoder.mu.bias", "encoder.logvar.weight", "encoder.logvar.bias" })
            {
                var t = layout[name];
                int perRow = t.Length / Latent;
                for (int j = 0; j < Latent; j++)
                    if (Above[j] == above)
                        for (int i = 0; i < perRow; i++) v[t.Offset + j * perRow + i] = (float)random.NextDouble() * 2 - 1;
            }
            double analytic = 0;
            for (int i = 0; i < v.Length; i++) analytic += (double)(a[i] - b[i]) * v[i];
            const float h = 2e-3f;
            double Share(float step)
            {
                model.Parameters.CopyFromCPU(theta.Select((t, i) => t + step * v[i]).ToArray());
                return model.Run(clamped.Objective, clamped.Batch, backward: false).Loss - model.Run(plain.Objective, plain.Batch, backward: false).Loss;
            }
            double numeric = (Share(h) - Share(-h)) / (2 * h);
            model.Parameters.CopyFromCPU(theta);
            string what = above ? "dimensions above the threshold" : "dimensions below the threshold";
            Tolerance.AssertNear(numeric, analytic, 1e-2, 1e-3, what);
            if (above) Assert.True(Math.Abs(analytic) < 1e-5, $"{what}: the clamp changes nothing there, yet the gradients differ by {analytic}");
            else Assert.True(Math.Abs(numeric) > 0.05, $"{what}: the clamp's share should move with them; got {numeric}");
        }
    }

    /// <summary>(1 − α)·min(1, t / (N·S)) for step t: linear per step, fractional epochs allowed, then constant.</summary>
    [Fact]
    public void TheWarmUpFactorRisesLinearlyEveryStepAndThenStaysAtOne()
    {
        var warmup = new KlWarmup(Epochs: 2.5, StepsPerEpoch: 4);
        Assert.Equal(0.0, warmup.Factor(0));
        for (int t = 1; t <= 10; t++) Assert.Equal(t / 10.0, warmup.Factor(t), 15);
        Assert.Equal(0.4, warmup.Factor(4), 15); // the end of epoch 1: 1 / 2.5
        Assert.Equal(1.0, warmup.Factor(10));
        Assert.Equal(1.0, warmup.Factor(11));
        Assert.Equal(1.0, warmup.Factor(1_000_000));
        Assert.Equal(1.0, new KlWarmup(1, 7).Factor(7)); // a whole N: the last step of epoch N is the first at full weight
        Assert.True(new KlWarmup(1, 7).Factor(6) < 1);
    }

    /// <summary>
    /// A trainer's epochs under a warm-up of 1.5 epochs: S counts only the steps taken (the MMD estimator's too-small last
    /// batch is skipped), each epoch reports its last step's weight, and after the ramp the weight is 1 − α exactly.
    /// </summary>
    [DeviceTheory]
    [MemberData(nameof(TrainerCases))]
    public void ATrainerFollowsTheScheduleStepByStep(string preset, string device)
    {
        const int images = 21, batch = 5;
        var spec = new ModelSpec(9, [8], Latent, [8], IlgpuVae.Kernels.Activation.Tanh);
        var objective = ObjectiveSpec.Preset(preset, Latent) with { FreeBits = preset == "vae" ? Threshold : 0 };
        using var rig = new TrainingRig(TestDevices.Get(device), spec, TestData.Uniform(new Random(1), images * spec.InputDim, 0, 1), batch, objective,
            initSeed: 3, klWarmupEpochs: 1.5);
        int steps = objective.MinimumBatch > 1 ? 4 : 5;
        Assert.Equal(steps, rig.Trainer.StepsPerEpoch(images));
        for (int e = 1; e <= 3; e++)
        {
            var summary = rig.Epoch();
            Assert.Equal((long)e * steps, rig.Optimizer.Steps);
            Assert.Equal(objective.KlWeight * Math.Min(1.0, e * steps / (1.5 * steps)), summary.KlWeight, 14);
            Assert.Equal(summary.KlWeight, rig.Trainer.KlWeight);
            Assert.True(double.IsFinite(summary.Terms.Loss), $"epoch {e}: loss {summary.Terms.Loss}");
        }
        Assert.Equal(objective.KlWeight, rig.Trainer.KlWeight);
    }

    public static TheoryData<string, string> TrainerCases() => TestDevices.Cross(["vae", "infovae"]);
}
