using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>Which MMD² estimator: the U-statistic (diagonals left out) or the V-statistic (all pairs).</summary>
internal enum MmdEstimator { Unbiased, Biased }

/// <summary>
/// The InfoVAE objective: loss = recon + (1 − α)·KL(q(z|x) ‖ p(z)) + (α + λ − 1)·MMD²(q(z), p(z)).
/// Valid weights: α ≤ 1, λ ≥ 0, α + λ − 1 ≥ 0. <see cref="PriorSamples"/> = M, the number of N(0, I) draws the
/// MMD compares the batch's codes with (0: as many as the batch). With <see cref="FreeBits"/> the KL term is
/// Σⱼ max(free bits, batch mean of KLⱼ) (<see cref="Kernels.FreeBits"/>). With <see cref="TotalCorrelation"/> (β-TC-VAE)
/// the loss adds its decomposition of the KL, recon + … + MI + β·TC + DWKL; its preset weighs the analytic KL and the MMD by 0.
/// </summary>
internal sealed record ObjectiveSpec(
    double Alpha,
    double Lambda,
    MmdKernel Kernel,
    double KernelParameter,
    MmdEstimator Estimator = MmdEstimator.Unbiased,
    int PriorSamples = 0)
{
    public static readonly string[] PresetNames = ["vae", "beta-vae", "infovae", "mmd-vae", "beta-tcvae"];

    /// <summary>Free bits: the nats per latent dimension below which its batch-mean KL is clamped (and gets no gradient); 0: none.</summary>
    public double FreeBits { get; init; }

    /// <summary>β-TC-VAE's decomposition of the KL in the loss; null for the other objectives.</summary>
    public TotalCorrelationSpec? TotalCorrelation { get; init; }

    public double KlWeight => 1 - Alpha;
    public double MmdWeight => Alpha + Lambda - 1;

    /// <summary>
    /// A named preset: vae (α = 0, λ = 1), beta-vae (α = 1 − β, λ = β), mmd-vae (α = 1, λ = 1000),
    /// infovae (α = 0, λ = 1000), beta-tcvae (α = 1, λ = 0: neither the analytic KL nor the MMD in the loss, which takes
    /// MI + β·TC + DWKL instead, with N = <paramref name="dataSize"/>); kernel IMQ with c = 2·latent (as in the WAE paper), unbiased.
    /// </summary>
    public static ObjectiveSpec Preset(string name, int latentDim, double beta = 4, int dataSize = 0) => name.ToLowerInvariant() switch
    {
        "beta-tcvae" => new ObjectiveSpec(1, 0, MmdKernel.Imq, 2.0 * latentDim) { TotalCorrelation = new(beta, dataSize) },
        "vae" => new(0, 1, MmdKernel.Imq, 2.0 * latentDim),
        "beta-vae" => new(1 - beta, beta, MmdKernel.Imq, 2.0 * latentDim),
        "mmd-vae" => new(1, 1000, MmdKernel.Imq, 2.0 * latentDim),
        "infovae" => new(0, 1000, MmdKernel.Imq, 2.0 * latentDim),
        _ => throw new ArgumentException($"Unknown model preset '{name}'. Use one of: {string.Join(", ", PresetNames)}."),
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid value and what is allowed.</summary>
    public ObjectiveSpec Validate()
    {
        if (!double.IsFinite(Alpha) || Alpha > 1)
            throw new ArgumentException($"alpha must be at most 1 (the KL weight 1 − α must not be negative); got {Alpha}.");
        if (!double.IsFinite(Lambda) || Lambda < 0)
            throw new ArgumentException($"lambda must be 0 or more; got {Lambda}.");
        if (MmdWeight < -1e-12)
            throw new ArgumentException($"alpha + lambda − 1 (the MMD weight) must not be negative; got {Alpha} + {Lambda} − 1 = {MmdWeight}.");
        if (!double.IsFinite(KernelParameter) || KernelParameter <= 0)
            throw new ArgumentException(
                $"The {(Kernel == MmdKernel.Rbf ? "RBF bandwidth" : "IMQ constant c")} must be positive; got {KernelParameter}.");
        if (!double.IsFinite(FreeBits) || FreeBits < 0)
            throw new ArgumentException($"Free bits must be 0 (none) or a positive number of nats per latent dimension; got {FreeBits}.");
        TotalCorrelation?.Validate();
        if (PriorSamples < 0)
            throw new ArgumentException($"The number of prior samples must be 0 (as many as the batch) or more; got {PriorSamples}.");
        return this;
    }

    /// <summary>M for a batch of <paramref name="batch"/> codes.</summary>
    public int PriorCount(int batch) => PriorSamples > 0 ? PriorSamples : batch;

    /// <summary>The unbiased estimator's least codes and prior draws (<see cref="Divergences.UnbiasedMinimum"/>).</summary>
    public const int UnbiasedMmdMinimum = Divergences.UnbiasedMinimum;

    /// <summary>Whether this objective's MMD² can be estimated on a batch of <paramref name="batch"/> codes.</summary>
    public bool CanEstimateMmd(int batch) => Divergences.CanEstimate(Estimator == MmdEstimator.Unbiased, batch, PriorCount(batch));

    /// <summary>
    /// The smallest batch a training step takes (a shorter last batch is skipped); evaluation passes take every batch
    /// and leave only the MMD out of one too small for it.
    /// </summary>
    public int MinimumBatch => Estimator == MmdEstimator.Unbiased ? UnbiasedMmdMinimum : 1;
}
