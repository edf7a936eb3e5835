namespace IlgpuVae.Model;

/// <summary>
/// The objective's terms for one batch, each a mean over the batch: recon = −log p(x|z), the KL term (the analytic
/// KL(q(z|x) ‖ p(z)) of a Gaussian posterior; under an IAF the single-sample estimate log q(z|x) − log p(z):
/// <see cref="IPosterior.KlTerm"/>), MMD²(q(z), p(z)) and loss = recon + (1 − α)·KL + (α + λ − 1)·MMD². recon + KL is
/// the negative ELBO (its single-sample estimate under an IAF). β-TC-VAE's loss adds the KL's decomposition instead of the
/// KL: <see cref="IndexCodeMi"/> + β·<see cref="TotalCorrelation"/> + <see cref="DimensionWiseKl"/> (0 for other objectives).
/// </summary>
public readonly record struct LossTerms(double Recon, double Kl, double Mmd, double Loss)
{
    /// <summary>β-TC-VAE: the index-code mutual information's minibatch-weighted estimate, mean over the batch.</summary>
    public double IndexCodeMi { get; init; }

    /// <summary>β-TC-VAE: the total correlation's minibatch-weighted estimate, mean over the batch.</summary>
    public double TotalCorrelation { get; init; }

    /// <summary>β-TC-VAE: the dimension-wise KL's minibatch-weighted estimate, mean over the batch.</summary>
    public double DimensionWiseKl { get; init; }

    /// <summary>The terms from a buffer laid out by <see cref="Kernels.Term"/>.</summary>
    public static LossTerms From(ReadOnlySpan<double> terms) =>
        new(terms[Kernels.Term.Recon], terms[Kernels.Term.Kl], terms[Kernels.Term.Mmd], terms[Kernels.Term.Loss])
        {
            IndexCodeMi = terms[Kernels.Term.Mi], TotalCorrelation = terms[Kernels.Term.Tc], DimensionWiseKl = terms[Kernels.Term.Dwkl],
        };

    /// <summary>−ELBO = recon + KL, in nats per image: the VAE bound whatever the objective's weights.</summary>
    public double NegativeElbo => Recon + Kl;

    /// <summary>Per-image means from batch-size-weighted sums (<see cref="VaeModel.TakeTotals"/>); NaN for no images.</summary>
    public static LossTerms Mean(double[] sums, int count) => count == 0
        ? new LossTerms(double.NaN, double.NaN, double.NaN, double.NaN) { IndexCodeMi = double.NaN, TotalCorrelation = double.NaN, DimensionWiseKl = double.NaN }
        : new LossTerms(sums[Kernels.Term.Recon] / count, sums[Kernels.Term.Kl] / count, sums[Kernels.Term.Mmd] / count, sums[Kernels.Term.Loss] / count)
        {
            IndexCodeMi = sums[Kernels.Term.Mi] / count, TotalCorrelation = sums[Kernels.Term.Tc] / count, DimensionWiseKl = sums[Kernels.Term.Dwkl] / count,
        };

    /// <summary>Whether every term is a finite number.</summary>
    public bool IsFinite => double.IsFinite(Recon) && double.IsFinite(Kl) && double.IsFinite(Mmd) && double.IsFinite(Loss)
        && double.IsFinite(IndexCodeMi) && double.IsFinite(TotalCorrelation) && double.IsFinite(DimensionWiseKl);
}
