using FsCheck;
using FsCheck.Fluent;
using ILGPU.Runtime;
using IlgpuVae.Data;
using IlgpuVae.Evaluation;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Runs;
using IlgpuVae.Tests.Infrastructure;
using IlgpuVae.Training;
using TestData = IlgpuVae.Tests.Infrastructure.TestData;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// The autoregressive models as a whole: a MADE's outputs never depend on inputs at or after their own position
/// (a property over random shapes and weights, by perturbing one input); masked weights start and stay at zero
/// through training; a checkpoint connected where the masks are not is refused; a flow inverted at its own code
/// gives back the density its forward computed; autoregressive sampling draws from the decoder's conditionals.
/// </summary>
public sealed class AutoregressiveModelTests
{
    static class Cpu
    {
        public static IlgpuVae.Compute.ComputeDevice Device => TestDevices.Get("cpu");
    }

    static float[] Read(ILGPU.ArrayView<float> view, long n)
    {
        var host = new float[n];
        view.SubView(0, n).CopyToCPU(host);
        return host;
    }

    /// <summary>Output i of a MADE decoder (and a flow step's m_i, s_i) is unchanged by any change of inputs i, i + 1, …, with either degree rule.</summary>
    [Fact]
    public void AMadeOutputNeverDependsOnItsOwnOrLaterInputs()
    {
        var device = Cpu.Device;
        var shapes = Gen.Choose(2, 11).SelectMany(d => Gen.Choose(0, 2).SelectMany(layers =>
            Gen.ArrayOf(Gen.Choose(1, 14), layers).SelectMany(hidden => Gen.Choose(0, 10000).SelectMany(seed =>
                Gen.Elements(MadeDegrees.Spread, MadeDegrees.Cyclic).Select(rule => (d, hidden, seed, rule))))));
        Prop.ForAll(shapes.ToArbitrary(), c =>
        {
            var (d, hidden, seed, rule) = c;
            const int rows = 3, k = 2;
            using var model = new VaeModel(device, new ModelSpec(d, [4], k, hidden, Activation.Tanh, Decoder: DecoderKind.Made, MadeDegrees: rule), rows);
            model.Initialize((ulong)seed);
            var random = new Random(seed);
            var x = TestData.Uniform(random, rows * d, 0, 1);
            model.Z.SubView(0, rows * k).CopyFromCPU(TestData.Normal(random, rows * k));
            model.Input.SubView(0, rows * d).CopyFromCPU(x);
            model.Decode(rows);
            var before = Read(model.DecoderOutput, rows * d);
            int j = random.Next(d);
            var changed = (float[])x.Clone();
            for (int r = 0; r < rows; r++)
                for (int i = j; i < d; i++) changed[r * d + i] = (float)random.NextDouble() * 5f - 2f;
            model.Input.SubView(0, rows * d).CopyFromCPU(changed);
            model.Decode(rows);
            var after = Read(model.DecoderOutput, rows * d);
            for (int r = 0; r < rows; r++)
                for (int i = 0; i <= j; i++)
                    if (after[r * d + i] != before[r * d + i]) return false;
            return true;
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(60).WithQuietOnSuccess(true));
    }

    [Fact]
    public void AFlowStepsOutputsDependOnlyOnEarlierDimensionsInItsOrder()
    {
        // Two steps over k = 4: the second reverses the order, so its m_j, s_j read only dimensions after j.
        var layout = ParameterLayout.Of(new ModelSpec(6, [5], 4, [5], Flow: new FlowSpec(2, [7], 3)));
        foreach (var (step, reversed) in new[] { (0, false), (1, true) })
        {
            var mMask = layout[$"flow.{step}.m.weight"].Mask!;
            var hiddenMask = layout[$"flow.{step}.made.0.weight"].Mask!;
            // Compose the masks: output j reaches input i through some hidden unit.
            for (int j = 0; j < 4; j++)
                for (int i = 0; i < 4; i++)
                {
                    bool reaches = Enumerable.Range(0, 7).Any(u => mMask[j * 7 + u] != 0 && hiddenMask[u * 4 + i] != 0);
                    bool allowed = reversed ? i > j : i < j;
                    if (reaches) Assert.True(allowed, $"step {step}: m_{j} reaches z_{i}");
                }
        }
        Assert.Equal(layout[$"flow.0.m.weight"].Mask, layout[$"flow.0.s.weight"].Mask);
    }

    [Fact]
    public void MaskedWeightsStartAtZeroAndStayThereThroughTraining()
    {
        var device = Cpu.Device;
        const int d = 9, rows = 16;
        var spec = new ModelSpec(d, [6], 2, [8], Decoder: DecoderKind.Made, Flow: new FlowSpec(1, [5], 3));
        using var rig = new TrainingRig(device, spec, TestData.Uniform(new Random(1), 64 * d, 0, 1), rows, ObjectiveSpec.Preset("infovae", 2), initSeed: 3, trainSeed: 2);
        rig.Epochs(3);
        var model = rig.Model;
        var parameters = Read(model.Parameters, model.Layout.Count);
        var gradients = Read(model.Gradients, model.Layout.Count);
        int masked = 0;
        foreach (var t in model.Layout.Tensors.Where(t => t.Mask is not null))
            for (int i = 0; i < t.Length; i++)
                if (t.Mask![i] == 0)
                {
                    masked++;
                    Assert.Equal(0f, parameters[t.Offset + i]);
                    Assert.Equal(0f, gradients[t.Offset + i]);
                }
        Assert.True(masked > 0);
    }

    [Fact]
    public void ACheckpointConnectedWhereTheMasksAreNotIsRefused()
    {
        using var model = new VaeModel(Cpu.Device, new ModelSpec(5, [4], 2, [6], Decoder: DecoderKind.Made), 4);
        model.Initialize(1);
        var named = ModelTensors.Read(model).ToDictionary(t => t.Tensor.Name, t => (t.Tensor.Shape, t.Data));
        ModelTensors.Load(model, named, "the checkpoint");
        var tensor = model.Layout["decoder.out.weight"];
        int hole = Array.IndexOf(tensor.Mask!, 0f);
        named[tensor.Name].Data[hole] = 0.25f;
        var e = Assert.Throws<ArgumentException>(() => ModelTensors.Load(model, named, "the checkpoint"));
        Assert.Contains("decoder.out.weight", e.Message);
        Assert.Contains("other masks", e.Message);
    }

    /// <summary>log q(z_i | x_i) by inverting image i's flow at its own code equals the forward's log q from the KL elements.</summary>
    [Fact]
    public void InvertingAFlowAtItsOwnCodeGivesBackTheForwardDensity()
    {
        var device = Cpu.Device;
        const int d = 6, n = 5, k = 3, c = 2;
        using var model = new VaeModel(device, new ModelSpec(d, [5], k, [5], Activation.Tanh, Flow: new FlowSpec(2, [6, 4], c)), n);
        model.Initialize(8);
        var random = new Random(4);
        model.Input.SubView(0, n * d).CopyFromCPU(TestData.Uniform(random, n * d, 0, 1));
        model.Epsilon.SubView(0, n * k).CopyFromCPU(TestData.Normal(random, n * k));
        model.Encode(n);
        var kl = new double[n * k];
        model.KlTerms.SubView(0, n * k).CopyToCPU(kl);
        var z = Read(model.Z, n * k);
        var logDensities = FlowMutualInformation.LogDensities(model, (IafPosterior)model.Posterior, n, model.Heads, model.Context, model.Z);
        for (int i = 0; i < n; i++)
        {
            double forward = -0.5 * k * Math.Log(2 * Math.PI);
            for (int j = 0; j < k; j++) forward += kl[i * k + j] - 0.5 * z[i * k + j] * (double)z[i * k + j];
            Tolerance.AssertNear(logDensities[i * n + i], forward, 1e-4, 1e-4, $"log q(z_{i} | x_{i})");
        }
    }

    /// <summary>
    /// Where a step's σ underflows to 0 (s = −120), inverting it divides by zero; held at ±Bound, the inverted codes
    /// stay finite, so the masked products never meet 0·∞ and every log-density — and the mutual information — is a number.
    /// </summary>
    [Fact]
    public void InvertingAFlowWhoseSigmaUnderflowsGivesFiniteDensities()
    {
        const int d = 6, n = 4, k = 3, c = 2;
        using var model = new VaeModel(Cpu.Device, new ModelSpec(d, [5], k, [5], Flow: new FlowSpec(2, [6], c)), n);
        model.Initialize(8);
        var theta = Read(model.Parameters, model.Layout.Count);
        var bias = model.Layout["flow.1.s.bias"];
        for (int j = 0; j < bias.Length; j++) theta[bias.Offset + j] = -120f;
        model.Parameters.SubView(0, theta.Length).CopyFromCPU(theta);
        var random = new Random(5);
        model.Input.SubView(0, n * d).CopyFromCPU(TestData.Uniform(random, n * d, 0, 1));
        model.Epsilon.SubView(0, n * k).CopyFromCPU(TestData.Normal(random, n * k));
        model.Encode(n);
        var logDensities = FlowMutualInformation.LogDensities(model, (IafPosterior)model.Posterior, n, model.Heads, model.Context, model.Z);
        Assert.All(logDensities, v => Assert.True(double.IsFinite(v), $"log q = {v}"));
        Assert.True(double.IsFinite(FlowMutualInformation.Estimate(model, (IafPosterior)model.Posterior, n, model.Heads, model.Context, model.Z)));
    }

    /// <summary>A MADE decoder's draws are 0/1, repeat for one key, and pixel by pixel follow the decoder's probabilities.</summary>
    [Fact]
    public void AutoregressiveSamplesFollowTheDecodersConditionals()
    {
        var device = Cpu.Device;
        const int d = 4, rows = 400, k = 2;
        using var model = new VaeModel(device, new ModelSpec(d, [3], k, [6], Decoder: DecoderKind.Made), rows);
        model.Initialize(5);
        var z = new float[rows * k]; // every row the same code, so each pixel's frequency estimates one conditional chain
        var first = VaeInference.Decode(model, z, rows, samplingKey: 9);
        var again = VaeInference.Decode(model, z, rows, samplingKey: 9);
        Assert.Equal(first, again);
        Assert.All(first, v => Assert.True(v is 0f or 1f));
        // Pixel 0 depends on z alone: its frequency matches σ(logit₀).
        model.Z.SubView(0, rows * k).CopyFromCPU(z);
        model.Input.SubView(0, rows * d).CopyFromCPU(first);
        model.Decode(rows);
        float p0 = Activations.Sigmoid(Read(model.DecoderOutput, d)[0]);
        double frequency = Enumerable.Range(0, rows).Average(r => first[r * d]);
        Assert.InRange(frequency, p0 - 0.1, p0 + 0.1);
    }
}
