namespace IlgpuVae.Model;

/// <summary>
/// The KL's decomposition of β-TC-VAE (Chen et al. 2018), each term a mean over the codes in nats: the index-code mutual
/// information, the total correlation of q(z) and the dimension-wise KL Σ_d KL(q(z_d) ‖ p(z_d)). They sum to the
/// single-sample estimate of KL(q(z|x) ‖ p(z)).
/// </summary>
public readonly record struct KlDecomposition(double IndexCodeMi, double TotalCorrelation, double DimensionWiseKl);
