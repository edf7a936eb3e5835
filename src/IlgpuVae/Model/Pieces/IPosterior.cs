using ILGPU;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Onnx;

namespace IlgpuVae.Model;

/// <summary>
/// q(z|x) after the encoder's heads: how a code z is drawn from them (with ε), the KL term's elements of the
/// objective, their backward, and what evaluation and export ask of it. The model's buffers it reads and writes —
/// the heads and their gradient, ε, z and ∂L/∂z, the KL elements — are the <see cref="VaeModel"/>'s.
/// </summary>
internal interface IPosterior : IDisposable
{
    /// <summary>Its own layers (none for the plain Gaussian).</summary>
    IReadOnlyList<Layer> Layers { get; }

    /// <summary>How config.json names the KL term this posterior gives the objective.</summary>
    string KlTerm { get; }

    /// <summary>Values per row of the context it computes beside the heads (0: none), <see cref="Context"/>.</summary>
    int ContextWidth { get; }

    void Allocate(DeviceMemory memory, int maxBatch);

    /// <summary>The context [MaxBatch, <see cref="ContextWidth"/>] after <see cref="Sample"/>.</summary>
    ArrayView<float> Context { get; }

    /// <summary>z₀ = μ + σ ⊙ ε, the Gaussian's draw, after <see cref="Sample"/>: <see cref="VaeModel.Z"/> itself unless a flow follows.</summary>
    ArrayView<float> Z0(VaeModel model);

    /// <summary>
    /// z [batch, k] and the KL elements from the heads, with ε drawn in the launch under <paramref name="noiseKey"/>
    /// (draw <paramref name="counterOffset"/> + i) or, with none, read from <see cref="VaeModel.Epsilon"/>.
    /// </summary>
    void Sample(VaeModel model, int batch, ulong? noiseKey, long counterOffset);

    /// <summary>
    /// <see cref="Sample"/> from the variational parameters already in place — the heads and the <see cref="Context"/> —
    /// without computing the context from x: the inference gap's optimization sets them per image itself.
    /// </summary>
    void SampleGiven(VaeModel model, int batch, ulong? noiseKey, long counterOffset);

    /// <summary>∂L/∂context [MaxBatch, <see cref="ContextWidth"/>] after <see cref="BackwardToVariational"/> (empty without a context).</summary>
    ArrayView<float> ContextGradient { get; }

    /// <summary>
    /// From ∂L/∂z (<see cref="VaeModel.Dz"/>, complete) to the gradients of the variational parameters — the heads'
    /// (<see cref="Encoder.HeadsGradient"/>) and the context's — with the KL elements weighed by <paramref name="klScale"/>,
    /// and not on into the encoder.
    /// </summary>
    void BackwardToVariational(VaeModel model, int batch, float klScale);

    /// <summary>Whether the MMD's launch may finish the backward, turning each row's complete ∂L/∂z into its heads' gradient.</summary>
    bool MmdFinishesBackward { get; }

    /// <summary>
    /// From ∂L/∂z (<see cref="VaeModel.Dz"/>, complete) to the heads' gradient, the KL term's weight over the batch mean
    /// being <paramref name="kl"/>; nothing of that where <paramref name="finishedByMmd"/>. Returns whether it
    /// wrote the gradient of the heads' input (through its own layers), which the encoder's backward then adds to.
    /// </summary>
    bool Backward(VaeModel model, int batch, KlGradient kl, bool finishedByMmd);

    /// <summary>Whether importance sampling encodes every draw's row itself (<see cref="ImportanceDraws"/>), so x is needed per draw.</summary>
    bool EncodesEachDraw { get; }

    /// <summary>
    /// A chunk of importance draws z ~ q(z|x) into <see cref="VaeModel.Z"/> — the chunk's images encoded already — and per
    /// row log p(z) − log q(z|x) into <paramref name="logRatio"/>, keyed as <paramref name="p"/> says.
    /// </summary>
    void ImportanceDraws(VaeModel model, ImportanceProblem p, ArrayView<double> logRatio);

    /// <summary>
    /// Per latent dimension the variance of the posteriors' means E[zⱼ|x] (whether the unit is active) and the mean KL
    /// element, over the evaluated images whose heads and one draw's KL elements are given.
    /// </summary>
    void DimensionStatistics(VaeModel model, PosteriorEvaluation evaluation, ArrayView<float> heads, ArrayView<double> kl,
        ArrayView<double> muVariance, ArrayView<double> klMean);

    /// <summary>
    /// I_q(x; z) over the first images (all, or as many as the estimator can afford: returned too), from their heads,
    /// contexts and one code each, with q(z) the mixture of their posteriors.
    /// </summary>
    (double Mi, int Images) MutualInformation(VaeModel model, PosteriorEvaluation evaluation, ArrayView<float> heads,
        ArrayView<float> contexts, ArrayView<float> codes);

    /// <summary>
    /// β-TC-VAE's decomposition of the KL over the evaluated images, one code each, with their posteriors' mixture as q(z)
    /// (log q(z) = LSEⱼ log q(z|xⱼ) − log N, and per dimension likewise); null where q(z|x) has no closed-form marginal
    /// per dimension.
    /// </summary>
    KlDecomposition? KlDecomposition(VaeModel model, PosteriorEvaluation evaluation, ArrayView<float> heads, ArrayView<float> codes);

    /// <summary>Outputs it adds to the encoder's ONNX graph from what the heads read; returns what they mean, or null for none.</summary>
    string? OnnxEncoderOutputs(OnnxGraph graph, OnnxParameters parameters, OnnxValue headsInput);

    /// <summary>ONNX files of its own beside the encoder's and the decoder's (an IAF's flow.onnx).</summary>
    IReadOnlyList<OnnxFile> OnnxFiles(VaeModel model);
}

/// <summary>
/// The KL term's gradient weight over the batch mean in a backward: one <see cref="Scale"/> for every element, or
/// — under free bits, for the analytic KL only — one per latent dimension on the device (<see cref="PerDimension"/>, [k]).
/// </summary>
internal readonly struct KlGradient
{
    KlGradient(float scale, ArrayView<float> perDimension) => (Scale, PerDimension) = (scale, perDimension);

    /// <summary>w = (1 − α)·warm-up / B for every element.</summary>
    public static KlGradient Uniform(float scale) => new(scale, default);

    /// <summary>w or 0 per dimension, as free bits' launch wrote them.</summary>
    public static KlGradient PerDimensionOf(ArrayView<float> scales) => new(0f, scales);

    /// <summary>The weight of every element; unused when <see cref="IsPerDimension"/>.</summary>
    public float Scale { get; }

    /// <summary>The weights per dimension on the device; empty for a uniform weight.</summary>
    public ArrayView<float> PerDimension { get; }

    public bool IsPerDimension => PerDimension.Length > 0;
}

/// <summary>An ONNX graph to be written as <see cref="Name"/>, with what it does.</summary>
internal sealed record OnnxFile(string Name, OnnxGraph Graph, string Doc);

/// <summary>Loads images [start, start + rows) of the evaluated set into <see cref="VaeModel.Input"/>.</summary>
internal delegate void LoadImages(int start, int rows);

/// <summary>
/// An evaluation's set as a posterior's estimators see it: <see cref="Count"/> images, taken <see cref="Pass"/> rows
/// at a time through <see cref="Load"/>, with the evaluation's draws keyed by <see cref="Seed"/>; a flow posterior's
/// Monte Carlo means take <see cref="FlowDraws"/> draws per image and its mutual information the first
/// <see cref="MiLimit"/> images.
/// </summary>
internal sealed record PosteriorEvaluation(int Count, int Pass, LoadImages Load, ulong Seed, int FlowDraws, int MiLimit);
