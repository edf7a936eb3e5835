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
        return this;
    }
}
