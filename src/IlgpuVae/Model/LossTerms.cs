namespace IlgpuVae;

/// <summary>
/// The objective's terms for one batch, each a mean over the batch: recon = −log p(x|z), the analytic KL,
/// MMD²(q(z), p(z)) and loss = recon + (1 − α)·KL + (α + λ − 1)·MMD². recon + KL is the negative ELBO.
/// </summary>
public readonly record struct LossTerms(double Recon, double Kl, double Mmd, double Loss)
{
    public double NegativeElbo => Recon + Kl;

    public bool IsFinite => double.IsFinite(Recon) && double.IsFinite(Kl) && double.IsFinite(Mmd) && double.IsFinite(Loss);
}
