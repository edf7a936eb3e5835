using ILGPU.Runtime;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Model;

/// <summary>
/// A random model with its inputs (x in [0, 1], ε, prior draws), loadable into a device <see cref="VaeModel"/>
/// and into the double-precision <see cref="ReferenceVae"/>.
/// </summary>
internal sealed class ModelCase
{
    public required ModelSpec Spec { get; init; }
    public required ObjectiveSpec Objective { get; init; }
    public required int Batch { get; init; }
    public required Dictionary<string, float[]> Parameters { get; init; }
    public required float[] X { get; init; }
    public required float[] Eps { get; init; }
    public required float[] Prior { get; init; }

    public int PriorCount => Prior.Length / Spec.LatentDim;

    public static ModelCase Random(ModelSpec spec, ObjectiveSpec objective, int batch, int priorCount, int seed, double weightScale = 0.5)
    {
        var random = new Random(seed);
        var layout = ParameterLayout.Of(spec);
        return new ModelCase
        {
            Spec = spec,
            Objective = objective with { PriorSamples = priorCount },
            Batch = batch,
            Parameters = layout.Tensors.ToDictionary(t => t.Name,
                t => TestData.Uniform(random, t.Length, -weightScale, weightScale)),
            X = TestData.Uniform(random, batch * spec.InputDim, 0, 1),
            Eps = TestData.Normal(random, batch * spec.LatentDim),
            Prior = TestData.Normal(random, priorCount * spec.LatentDim),
        };
    }

    /// <summary>A device model holding this case's parameters and inputs.</summary>
    public VaeModel Load(string device)
    {
        var model = new VaeModel(TestDevices.Get(device), Spec, Batch, PriorCount);
        var layout = model.Layout;
        IlgpuVae.Model.ModelTensors.Load(model, Parameters.ToDictionary(p => p.Key, p => (layout[p.Key].Shape, p.Value)), "test case");
        model.Input.SubView(0, X.Length).CopyFromCPU(X);
        model.Epsilon.SubView(0, Eps.Length).CopyFromCPU(Eps);
        model.Prior.SubView(0, Prior.Length).CopyFromCPU(Prior);
        return model;
    }

    public ReferenceVae.Result Reference() => new ReferenceVae(Spec, Objective).Evaluate(
        Parameters.ToDictionary(p => p.Key, p => TestData.ToDouble(p.Value)),
        TestData.ToDouble(X), TestData.ToDouble(Eps), TestData.ToDouble(Prior), Batch);
}
