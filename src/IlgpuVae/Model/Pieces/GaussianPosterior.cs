using System.Text.Json;
using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>
/// The diagonal Gaussian q(z|x) = N(μ, σ²) (mean field): z = μ + exp(½ log σ²) ⊙ ε, the analytic KL, and its
/// backward, which the MMD's launch finishes when the MMD is computed (<see cref="Kernels.Reparameterize"/>). Its
/// density at any code is closed-form, so the estimators need no extra passes: importance draws from the heads,
/// the mutual information's pairwise sum, and the means' variance straight from μ.
/// </summary>
internal sealed class GaussianPosterior(int latent) : IPosterior
{
    public IReadOnlyList<Layer> Layers => [];

    /// <summary>What config.json calls its KL term.</summary>
    public const string KlTermName = "analytic KL(N(mu, sigma^2) || N(0, I))";

    public string KlTerm => KlTermName;

    public int ContextWidth => 0;

    public void Allocate(DeviceMemory memory, int maxBatch) { }

    public ArrayView<float> Context => default;

    public ArrayView<float> Z0(VaeModel model) => model.Z;

    public void Sample(VaeModel model, int batch, ulong? noiseKey, long counterOffset) =>
        model.Kernels.Reparameterize(batch, latent, noiseKey, flowKl: false, model.Heads, model.Epsilon, model.Z, model.KlTerms, counterOffset);

    public void SampleGiven(VaeModel model, int batch, ulong? noiseKey, long counterOffset) => Sample(model, batch, noiseKey, counterOffset);

    public ArrayView<float> ContextGradient => default;

    public void BackwardToVariational(VaeModel model, int batch, float klScale) =>
        model.Kernels.ReparameterizeBackward(batch, latent, klScale, flowKl: false, model.Heads, model.Epsilon, model.Dz, model.Encoder.HeadsGradient);

    public bool MmdFinishesBackward => true;

    public bool Backward(VaeModel model, int batch, KlGradient kl, bool finishedByMmd)
    {
        if (finishedByMmd) return false;
        if (kl.IsPerDimension)
            model.Kernels.ReparameterizeBackwardPerDimension(batch, latent, kl.PerDimension, model.Heads, model.Epsilon, model.Dz, model.Encoder.HeadsGradient);
        else
            model.Kernels.ReparameterizeBackward(batch, latent, kl.Scale, flowKl: false, model.Heads, model.Epsilon, model.Dz, model.Encoder.HeadsGradient);
        return false;
    }

    public bool EncodesEachDraw => false;

    public void ImportanceDraws(VaeModel model, ImportanceProblem p, ArrayView<double> logRatio) =>
        model.Kernels.ImportanceSamples(p, model.Heads, model.Z, logRatio);

    public void DimensionStatistics(VaeModel model, PosteriorEvaluation evaluation, ArrayView<float> heads, ArrayView<double> kl,
        ArrayView<double> muVariance, ArrayView<double> klMean) =>
        model.Kernels.DimensionStatistics(new DimensionProblem { Count = evaluation.Count, Latent = latent, Stride = 2 * latent, Draws = 1 },
            heads, default, kl, muVariance, klMean);

    public (double Mi, int Images) MutualInformation(VaeModel model, PosteriorEvaluation evaluation, ArrayView<float> heads,
        ArrayView<float> contexts, ArrayView<float> codes)
    {
        int n = evaluation.Count;
        using var terms = new DeviceMemory(model.Device, $"the mutual information of {n} images").Doubles(n);
        model.Kernels.MutualInformationTerms(n, latent, heads, codes, terms.View);
        return (terms.GetAsArray1D().Average(), n);
    }

    public KlDecomposition? KlDecomposition(VaeModel model, PosteriorEvaluation evaluation, ArrayView<float> heads, ArrayView<float> codes)
    {
        int n = evaluation.Count;
        var memory = new DeviceMemory(model.Device, $"the KL's decomposition over {n} images");
        using var lse = memory.Doubles((long)n * (latent + 1));
        using var rows = memory.Doubles((long)n * TotalCorrelation.TermsPerRow);
        // The evaluated set is the whole mixture: log q(z) = LSE − log N, no minibatch weighting.
        model.Kernels.TotalCorrelationRows(new TcProblem { B = n, Latent = latent, LogNormalizer = Math.Log(n) }, codes, heads, lse.View, rows.View, default);
        var terms = rows.GetAsArray1D();
        double Mean(int term) => Enumerable.Range(0, n).Average(i => terms[i * TotalCorrelation.TermsPerRow + term]);
        return new KlDecomposition(Mean(0), Mean(1), Mean(2));
    }

    public string? OnnxEncoderOutputs(OnnxGraph graph, OnnxParameters parameters, OnnxValue headsInput) => null;

    public IReadOnlyList<OnnxFile> OnnxFiles(VaeModel model) => [];

    public void Dispose() { }
}

/// <summary>The mean-field Gaussian, the default posterior: no structure of its own, an analytic KL per dimension.</summary>
internal sealed class GaussianPosteriorKind : PosteriorKind
{
    public override string Name => "gaussian";

    public override string KlTerm => GaussianPosterior.KlTermName;

    public override bool HasKlPerDimension => true;

    public override bool Describes(ModelSpec spec) => spec.Flow is null;

    public override IPosterior Build(ModelSpec spec, ParameterLayout layout, Encoder encoder) => new GaussianPosterior(spec.LatentDim);

    public override ModelSpec WithSettings(ModelSpec spec, SettingValue setting) => spec with { Flow = null };

    public override ModelSpec WithFixture(ModelSpec spec, JsonElement model) => spec with { Flow = null };
}
