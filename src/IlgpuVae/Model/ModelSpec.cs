using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// An inverse autoregressive flow after the Gaussian posterior (Kingma et al., 2016): <paramref name="Steps"/> MADEs
/// over z of the given hidden widths, each also reading a context vector of <paramref name="ContextDim"/> that the
/// encoder computes beside the heads.
/// </summary>
internal sealed record FlowSpec(int Steps, IReadOnlyList<int> Hidden, int ContextDim)
{
    public bool Equals(FlowSpec? other) => other is not null && Steps == other.Steps && ContextDim == other.ContextDim && Hidden.SequenceEqual(other.Hidden);

    public override int GetHashCode() => HashCode.Combine(Steps, ContextDim, Hidden.Count);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid value, for codes of <paramref name="latent"/> dimensions.</summary>
    public FlowSpec Validate(int latent)
    {
        if (Steps < 1) throw new ArgumentException($"An IAF posterior needs at least one step; got RunConfig.FlowSteps = {Steps}.");
        if (Hidden.Count == 0 || Hidden.Any(h => h <= 0))
            throw new ArgumentException($"Every flow step needs hidden layers of positive width; got RunConfig.FlowHidden = {string.Join(",", Hidden)}.");
        if (ContextDim <= 0) throw new ArgumentException($"The flow's context must have a positive size; got RunConfig.ContextDim = {ContextDim}.");
        if (latent < 2) throw new ArgumentException($"An IAF posterior orders the latent dimensions, so it needs at least 2; got RunConfig.Latent = {latent}.");
        return this;
    }

    /// <summary>"iaf 2×[64] context 32".</summary>
    public override string ToString() => $"iaf {Steps}×[{string.Join(",", Hidden)}] context {ContextDim}";
}

/// <summary>
/// A VAE: x [d] → encoder hidden layers → two heads μ, log σ² [k] → z → decoder hidden layers → [d].
/// Either hidden list may be empty and they need not mirror each other. With <see cref="Conv"/>, the encoder
/// starts with strided convolutions and the decoder ends with their mirror image (transposed convolutions after
/// a dense layer to the deepest feature map). <see cref="Activation"/> follows every hidden layer, never the
/// heads or the output layer. <see cref="Decoder"/> names another kind of decoder (<see cref="DecoderKind"/>: null is the
/// dense one), whose own structure, if it has one, is <see cref="DecoderOptions"/>, and the
/// Gaussian posterior may continue through an inverse autoregressive <see cref="Flow"/>; <see cref="MadeDegrees"/> is how
/// the MADEs of either give their hidden units degrees (<see cref="Made"/>), and matters for nothing else.
/// Settings that reach kernels as scalars — <see cref="ObsLogVar"/> here, the learning rate, the MMD's kernel
/// parameter and weights — are floats, as the kernels compute in float (double only for sums that need it);
/// a value that is not a float (−0.7, say) is used as its nearest float. Test references read fixtures' values
/// in double.
/// </summary>
internal sealed record ModelSpec(
    int InputDim,
    IReadOnlyList<int> EncoderHidden,
    int LatentDim,
    IReadOnlyList<int> DecoderHidden,
    Activation Activation = Activation.Relu,
    Likelihood Likelihood = Likelihood.Bernoulli,
    float ObsLogVar = 0f,
    ConvSpec? Conv = null,
    DecoderKind? Decoder = null,
    FlowSpec? Flow = null,
    DecoderOptions? DecoderOptions = null,
    MadeDegrees MadeDegrees = MadeDegrees.Spread)
{
    /// <summary>The decoder's kind: <see cref="Decoder"/>, or the dense decoder.</summary>
    public DecoderKind DecoderKind => Decoder ?? DecoderKind.Mlp;

    /// <summary>The pytorch/examples VAE: 784-400-20-400-784, ReLU, Bernoulli.</summary>
    public static ModelSpec PyTorchExample(int inputDim = 784) => new(inputDim, [400], 20, [400]);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid value and what is allowed.</summary>
    public ModelSpec Validate()
    {
        if (InputDim <= 0) throw new ArgumentException($"The input dimension must be positive; got {InputDim}.");
        if (LatentDim <= 0) throw new ArgumentException($"The latent dimension must be positive; got {LatentDim}. Try RunConfig.Latent = 20.");
        foreach (var (name, list) in new[] { ("encoder", EncoderHidden), ("decoder", DecoderHidden) })
            foreach (int h in list)
                if (h <= 0) throw new ArgumentException($"Every {name} hidden size must be positive; got {h}.");
        if (!Enum.IsDefined(Activation)) throw new ArgumentException($"Unknown activation {(int)Activation}.");
        if (!Enum.IsDefined(MadeDegrees)) throw new ArgumentException($"Unknown MADE degree rule {(int)MadeDegrees}.");
        if (!float.IsFinite(ObsLogVar)) throw new ArgumentException($"The observation log-variance must be finite; got {ObsLogVar}.");
        DecoderKind.Validate(this);
        Flow?.Validate(LatentDim);
        if (Conv is { } conv)
        {
            if (conv.Image.Size != InputDim)
                throw new ArgumentException($"The conv model is for {conv.Image} images ({conv.Image.Size} values), but the data has {InputDim} values per image.");
            conv.Shapes();
        }
        return this;
    }

    /// <summary>
    /// "784-400-20-400-784", or for a conv model "conv 1×28×28 c64k4s2p1 c128k4s2p1, 6272-1024-20-1024-6272"; a model with
    /// a MADE whose degrees are not the default's says so ("…, cyclic MADE degrees").
    /// </summary>
    public override string ToString()
    {
        int first = Conv?.Deepest.Size ?? InputDim;
        string encoder = string.Join("-", new[] { first }.Concat(EncoderHidden).Append(LatentDim));
        string text = $"{encoder}-{DecoderKind.Describe(this)}" + (Flow is null ? "" : $", {Flow}");
        if (HasMade && MadeDegrees != MadeDegrees.Spread) text += $", {MadeDegrees.ToString().ToLowerInvariant()} MADE degrees";
        return Conv is null ? text : $"conv {Conv}, {text}";
    }

    public bool Equals(ModelSpec? other) => other is not null &&
        InputDim == other.InputDim && LatentDim == other.LatentDim &&
        EncoderHidden.SequenceEqual(other.EncoderHidden) && DecoderHidden.SequenceEqual(other.DecoderHidden) &&
        Activation == other.Activation && Likelihood == other.Likelihood && ObsLogVar.Equals(other.ObsLogVar) &&
        Equals(Conv, other.Conv) && DecoderKind == other.DecoderKind && Equals(Flow, other.Flow) && Equals(DecoderOptions, other.DecoderOptions) &&
        (!HasMade || MadeDegrees == other.MadeDegrees);

    /// <summary>Whether the decoder or the posterior is a MADE, so <see cref="MadeDegrees"/> shapes the model.</summary>
    public bool HasMade => DecoderKind.IsMade || Flow is not null;

    public override int GetHashCode() => HashCode.Combine(ToString(), Activation, Likelihood, ObsLogVar);
}
