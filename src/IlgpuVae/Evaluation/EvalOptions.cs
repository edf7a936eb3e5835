namespace IlgpuVae;

/// <summary>How thoroughly <see cref="Evaluator"/> measures a model.</summary>
public sealed record EvalOptions
{
    /// <summary>K, the importance samples per image of the IWAE estimate (0: skip it).</summary>
    public int ImportanceSamples { get; init; } = 1000;
    /// <summary>Draws of z per image for the −ELBO and the loss terms.</summary>
    public int ElboSamples { get; init; } = 4;
    /// <summary>A latent dimension is active when the variance of its posterior mean over the data exceeds this.</summary>
    public double ActiveUnitThreshold { get; init; } = 0.01;
    /// <summary>Codes (and as many prior draws) in the aggregate MMD; its cost grows with the square.</summary>
    public int MmdSamples { get; init; } = 2000;
    public ulong Seed { get; init; } = 1;

    public EvalOptions Validate()
    {
        if (ImportanceSamples < 0) throw new ArgumentException($"The importance samples must be 0 (skip) or more; got {ImportanceSamples}.");
        if (ElboSamples <= 0) throw new ArgumentException($"The ELBO samples must be positive; got {ElboSamples}.");
        if (!(ActiveUnitThreshold >= 0)) throw new ArgumentException($"The active-unit threshold must be 0 or more; got {ActiveUnitThreshold}.");
        if (MmdSamples < 2) throw new ArgumentException($"The aggregate MMD needs at least 2 samples; got {MmdSamples}.");
        return this;
    }
}

/// <summary>
/// A model's numbers on a data set. NLLs are in nats per image; bits per dimension = NLL / (d·ln 2).
/// <see cref="MutualInformation"/> is I_q(x; z) with q(z) the mixture of the evaluated posteriors, so at most log N.
/// </summary>
public sealed record EvalResult(
    LossTerms Terms,
    double NegativeElbo,
    double IwaeNll,
    int IwaeK,
    double MutualInformation,
    int ActiveUnits,
    double[] MuVariance,
    double[] KlPerDimension,
    double MmdAggregate,
    int Images,
    int Dim)
{
    public double Kl => KlPerDimension.Sum();
    public double BitsPerDim => (IwaeK > 0 ? IwaeNll : NegativeElbo) / (Dim * Math.Log(2));

    /// <summary>The eval.json object (DESIGN.md's keys first).</summary>
    public Dictionary<string, object> ToJson() => new()
    {
        ["test_neg_elbo"] = NegativeElbo,
        ["iwae_nll"] = IwaeK > 0 ? IwaeNll : double.NaN,
        ["iwae_k"] = IwaeK,
        ["bits_per_dim"] = BitsPerDim,
        ["mi"] = MutualInformation,
        ["active_units"] = ActiveUnits,
        ["mmd_aggregate"] = MmdAggregate,
        ["kl"] = Kl,
        ["test_recon"] = Terms.Recon,
        ["test_mmd"] = Terms.Mmd,
        ["test_loss"] = Terms.Loss,
        ["images"] = Images,
        ["kl_per_dim"] = KlPerDimension,
        ["mu_variance"] = MuVariance,
    };
}
