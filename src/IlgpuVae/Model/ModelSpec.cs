using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>The decoder's output distribution p(x|z).</summary>
public enum Likelihood
{
    /// <summary>Independent Bernoulli pixels; the decoder outputs logits.</summary>
    Bernoulli,
    /// <summary>Independent Gaussians with a fixed scalar log-variance; the decoder outputs means.</summary>
    Gaussian,
}

/// <summary>
/// A VAE: x [d] → encoder hidden layers → two heads μ, log σ² [k] → z → decoder hidden layers → [d].
/// Either hidden list may be empty and they need not mirror each other. With <see cref="Conv"/>, the encoder
/// starts with strided convolutions and the decoder ends with their mirror image (transposed convolutions after
/// a dense layer to the deepest feature map). <see cref="Activation"/> follows every hidden layer, never the
/// heads or the output layer.
/// Settings that reach kernels as scalars — <see cref="ObsLogVar"/> here, the learning rate, the MMD's kernel
/// parameter and weights — are floats, as the kernels compute in float (double only for sums that need it);
/// a value that is not a float (−0.7, say) is used as its nearest float. Test references read fixtures' values
/// in double.
/// </summary>
public sealed record ModelSpec(
    int InputDim,
    IReadOnlyList<int> EncoderHidden,
    int LatentDim,
    IReadOnlyList<int> DecoderHidden,
    Activation Activation = Activation.Relu,
    Likelihood Likelihood = Likelihood.Bernoulli,
    float ObsLogVar = 0f,
    ConvSpec? Conv = null)
{
    /// <summary>The pytorch/examples VAE: 784-400-20-400-784, ReLU, Bernoulli.</summary>
    public static ModelSpec PyTorchExample(int inputDim = 784) => new(inputDim, [400], 20, [400]);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid value and what is allowed.</summary>
    public ModelSpec Validate()
    {
        if (InputDim <= 0) throw new ArgumentException($"The input dimension must be positive; got {InputDim}.");
        if (LatentDim <= 0) throw new ArgumentException($"The latent dimension must be positive; got {LatentDim}. Try --latent 20.");
        foreach (var (name, list) in new[] { ("encoder", EncoderHidden), ("decoder", DecoderHidden) })
            foreach (int h in list)
                if (h <= 0) throw new ArgumentException($"Every {name} hidden size must be positive; got {h}.");
        if (!Enum.IsDefined(Activation)) throw new ArgumentException($"Unknown activation {(int)Activation}.");
        if (!float.IsFinite(ObsLogVar)) throw new ArgumentException($"The observation log-variance must be finite; got {ObsLogVar}.");
        if (Conv is { } conv)
        {
            if (conv.Image.Size != InputDim)
                throw new ArgumentException($"The conv model is for {conv.Image} images ({conv.Image.Size} values), but the data has {InputDim} values per image.");
            conv.Shapes();
        }
        return this;
    }

    /// <summary>"784-400-20-400-784", or for a conv model "conv 1×28×28 c64k4s2p1 c128k4s2p1, 6272-1024-20-1024-6272".</summary>
    public override string ToString()
    {
        int first = Conv?.Deepest.Size ?? InputDim;
        string dense = string.Join("-", new[] { first }.Concat(EncoderHidden).Append(LatentDim).Concat(DecoderHidden).Append(first));
        return Conv is null ? dense : $"conv {Conv}, {dense}";
    }

    public bool Equals(ModelSpec? other) => other is not null &&
        InputDim == other.InputDim && LatentDim == other.LatentDim &&
        EncoderHidden.SequenceEqual(other.EncoderHidden) && DecoderHidden.SequenceEqual(other.DecoderHidden) &&
        Activation == other.Activation && Likelihood == other.Likelihood && ObsLogVar.Equals(other.ObsLogVar) &&
        Equals(Conv, other.Conv);

    public override int GetHashCode() => HashCode.Combine(ToString(), Activation, Likelihood, ObsLogVar);
}
