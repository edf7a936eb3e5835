using IlgpuVae.Runs;

namespace IlgpuVae.Settings;

/// <summary>
/// The parts of a run that a setting can belong to, each chosen by another setting's value (<see cref="ChosenByAttribute"/>):
/// a setting of a piece the run does not have would be silently ignored, so it is refused (<see cref="Runs.Settings.RunSettings.RequireChosenPieces"/>).
/// </summary>
public enum Piece
{
    /// <summary>Every run.</summary>
    Any,

    /// <summary>The convolutional encoder and transposed-convolution decoder.</summary>
    [ChosenBy(nameof(RunConfig.Arch), "conv")]
    Conv,

    /// <summary>The dense decoder.</summary>
    [ChosenBy(nameof(RunConfig.Decoder), "mlp")]
    DenseDecoder,

    /// <summary>The MADE decoder.</summary>
    [ChosenBy(nameof(RunConfig.Decoder), "made")]
    MadeDecoder,

    /// <summary>The PixelCNN decoder.</summary>
    [ChosenBy(nameof(RunConfig.Decoder), "pixelcnn")]
    PixelCnnDecoder,

    /// <summary>The inverse autoregressive flow posterior.</summary>
    [ChosenBy(nameof(RunConfig.Posterior), "iaf")]
    IafPosterior,

    /// <summary>Either piece built of MADEs.</summary>
    [ChosenBy(nameof(RunConfig.Decoder), "made")]
    [ChosenBy(nameof(RunConfig.Posterior), "iaf")]
    Mades,

    /// <summary>The MMD's RBF kernel.</summary>
    [ChosenBy(nameof(RunConfig.Kernel), "rbf")]
    RbfKernel,

    /// <summary>The MMD's inverse multiquadric kernel.</summary>
    [ChosenBy(nameof(RunConfig.Kernel), "imq")]
    ImqKernel,

    /// <summary>The presets with a β: β-VAE and β-TC-VAE.</summary>
    [ChosenBy(nameof(RunConfig.Model), "beta-vae")]
    [ChosenBy(nameof(RunConfig.Model), "beta-tcvae")]
    BetaVaePreset,

    /// <summary>The β-TC-VAE preset.</summary>
    [ChosenBy(nameof(RunConfig.Model), "beta-tcvae")]
    BetaTcVaePreset,

    /// <summary>The Gaussian likelihood.</summary>
    [ChosenBy(nameof(RunConfig.Likelihood), "gaussian")]
    GaussianLikelihood,

    /// <summary>The evaluation during training.</summary>
    [ChosenBy(nameof(RunConfig.EvalEvery))]
    EpochEvaluation,
}

/// <summary>
/// The setting whose value chooses a <see cref="Piece"/>: one of <see cref="Values"/> (any case), or with none given,
/// any value but the setting's default. Several on one piece: any of them chooses it.
/// </summary>
[AttributeUsage(AttributeTargets.Field, AllowMultiple = true)]
public sealed class ChosenByAttribute(string property, params string[] values) : Attribute
{
    /// <summary>The <see cref="RunConfig"/> property that chooses the piece.</summary>
    public string Property { get; } = property;

    /// <summary>The values that choose it; empty: any but the default.</summary>
    public IReadOnlyList<string> Values { get; } = values;
}
