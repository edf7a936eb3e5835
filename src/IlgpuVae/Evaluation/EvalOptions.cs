using IlgpuVae.Settings;

namespace IlgpuVae.Evaluation;

/// <summary>How thoroughly <see cref="Evaluator"/> measures a model; each option of <c>eval</c> is declared on its property.</summary>
public sealed record EvalOptions
{
    /// <summary>K, the importance samples per image of the IWAE estimate (0: skip it).</summary>
    [Setting("--iwae-k", "Importance samples per image for the IWAE NLL (0: skip)")]
    public int ImportanceSamples { get; init; } = 1000;
    /// <summary>Draws of z per image for the −ELBO and the loss terms.</summary>
    [Setting("--elbo-samples", "Draws of z per image for the −ELBO")]
    public int ElboSamples { get; init; } = 4;
    /// <summary>A latent dimension is active when the variance of its posterior mean over the data exceeds this.</summary>
    [Setting("--active-threshold", "Variance of E[zⱼ|x] above which a unit is active")]
    public double ActiveUnitThreshold { get; init; } = 0.01;
    /// <summary>Codes (and as many prior draws) in the aggregate MMD; its cost grows with the square.</summary>
    [Setting("--mmd-samples", "Codes in the aggregate-posterior MMD")]
    public int MmdSamples { get; init; } = 2000;
    /// <summary>Keys every random draw of the evaluation, so the numbers repeat.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>An IAF posterior's draws per image for the Monte Carlo means of z behind its active units.</summary>
    [Setting("--flow-draws", "IAF posterior: draws per image for the Monte Carlo means of z (active units)")]
    public int FlowDraws { get; init; } = 32;
    /// <summary>An IAF posterior's mutual information uses the first this many images (its cost grows with the square).</summary>
    [Setting("--mi-limit", "IAF posterior: estimate the mutual information on the first N images (it inverts the flow for every pair of them)")]
    public int MiLimit { get; init; } = 1000;

    /// <summary>
    /// The inference gaps are measured on the first this many images (0: not at all, the default — each image's q is
    /// optimized for up to <see cref="GapSteps"/> steps, each a decoder pass forward and back, which costs far more than
    /// the rest of the evaluation).
    /// </summary>
    [Setting("--gaps", "Measure the approximation and amortization gaps on the first N images (0: skip; each image's q is optimized, see --gap-steps)")]
    public int GapImages { get; init; }
    /// <summary>The most Adam steps of each image's variational parameters; fewer when the ELBO stops rising (<see cref="GapWindow"/>).</summary>
    [Setting("--gap-steps", "Gaps: the most Adam steps of each image's variational parameters")]
    public int GapSteps { get; init; } = 2000;
    /// <summary>Adam's learning rate for the variational parameters (μ, log σ², an IAF's context).</summary>
    [Setting("--gap-lr", "Gaps: Adam's learning rate for the variational parameters")]
    public double GapLearningRate { get; init; } = 0.01;
    /// <summary>Draws of z per image whose mean gradient makes one Adam step.</summary>
    [Setting("--gap-draws", "Gaps: draws of z per image for each Adam step's gradient")]
    public int GapDraws { get; init; } = 4;
    /// <summary>
    /// The stopping rule: every this many steps the mean ELBO of the window's draws (all images) is compared with the
    /// previous window's, and the optimization stops once it rose by less than <see cref="GapTolerance"/>.
    /// </summary>
    [Setting("--gap-window", "Gaps: steps per window of the stopping rule (stop when a window's mean ELBO rose by less than --gap-tolerance)")]
    public int GapWindow { get; init; } = 100;
    /// <summary>The stopping rule's least rise of the windows' mean ELBO, in nats per image.</summary>
    [Setting("--gap-tolerance", "Gaps: the least rise in nats of the mean ELBO from one window to the next that goes on optimizing")]
    public double GapTolerance { get; init; } = 0.01;
    /// <summary>Draws of z per image for the ELBOs of the amortized and the optimized q (the same ε for both).</summary>
    [Setting("--gap-elbo-draws", "Gaps: draws of z per image for the ELBOs of the amortized and the optimized q")]
    public int GapElboDraws { get; init; } = 100;

    /// <summary>Returns the options, or throws <see cref="ArgumentException"/> naming the first value out of range.</summary>
    public EvalOptions Validate()
    {
        if (ImportanceSamples < 0) throw new ArgumentException($"EvalOptions.ImportanceSamples must be 0 (skip) or more; got {ImportanceSamples}.");
        if (ElboSamples <= 0) throw new ArgumentException($"EvalOptions.ElboSamples must be positive; got {ElboSamples}.");
        if (!(ActiveUnitThreshold >= 0)) throw new ArgumentException($"EvalOptions.ActiveUnitThreshold must be 0 or more; got {ActiveUnitThreshold}.");
        if (MmdSamples < 2) throw new ArgumentException($"EvalOptions.MmdSamples must be at least 2 (the aggregate MMD² compares two codes or more); got {MmdSamples}.");
        if (FlowDraws < 2) throw new ArgumentException($"EvalOptions.FlowDraws must be at least 2 (a flow posterior's means need 2 draws per image); got {FlowDraws}.");
        if (MiLimit is < 2 or > 20000)
            throw new ArgumentException($"EvalOptions.MiLimit must be between 2 and 20000 images (a flow's mutual information inverts it for every pair); got {MiLimit}.");
        if (GapImages < 0) throw new ArgumentException($"EvalOptions.GapImages must be 0 (skip) or more; got {GapImages}.");
        if (GapImages > 0 && ImportanceSamples == 0)
            throw new ArgumentException("EvalOptions.GapImages needs the IWAE estimate of log p(x): EvalOptions.ImportanceSamples must be above 0.");
        if (GapSteps < 1) throw new ArgumentException($"EvalOptions.GapSteps must be positive; got {GapSteps}.");
        if (!(GapLearningRate > 0) || double.IsInfinity(GapLearningRate))
            throw new ArgumentException($"EvalOptions.GapLearningRate must be positive; got {GapLearningRate}.");
        if (GapDraws < 1) throw new ArgumentException($"EvalOptions.GapDraws must be positive; got {GapDraws}.");
        if (GapWindow < 1) throw new ArgumentException($"EvalOptions.GapWindow must be positive; got {GapWindow}.");
        if (!(GapTolerance >= 0)) throw new ArgumentException($"EvalOptions.GapTolerance must be 0 or more; got {GapTolerance}.");
        if (GapElboDraws < 2)
            throw new ArgumentException($"EvalOptions.GapElboDraws must be at least 2 (their spread is the gaps' Monte Carlo error); got {GapElboDraws}.");
        return this;
    }
}
