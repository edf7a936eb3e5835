using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// β-TC-VAE (Chen, Li, Grosse &amp; Duvenaud 2018): the KL term replaced by its decomposition, loss = recon + MI + β·TC + DWKL
/// (the paper's α = γ = 1), estimated on each batch by minibatch-weighted sampling (<see cref="TotalCorrelation"/>), where
/// log q(zᵢ) ≈ LSEⱼ log q(zᵢ|xⱼ) − log(N·M) with N the data set's size and M the batch's.
/// <see cref="DataSize"/> is N; 0 takes the batch as the whole data set (N = M: a model run on batches without a data set,
/// as in the tests).
/// </summary>
internal sealed record TotalCorrelationSpec(double Beta, int DataSize)
{
    /// <summary>The gradient weights and normalizer of a batch of <paramref name="batch"/> codes; <paramref name="backward"/> false: no gradient.</summary>
    public TcProblem Problem(int batch, int latent, bool backward) => new()
    {
        B = batch, Latent = latent, LogNormalizer = Math.Log((double)(DataSize > 0 ? DataSize : batch) * batch),
        MiWeight = backward ? 1f / batch : 0f, TcWeight = backward ? (float)(Beta / batch) : 0f, DwklWeight = backward ? 1f / batch : 0f,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming a bad β or N.</summary>
    public TotalCorrelationSpec Validate()
    {
        if (!double.IsFinite(Beta) || Beta < 0)
            throw new ArgumentException($"β of beta-tcvae (the total correlation's weight) must be 0 or more; got {Beta}.");
        if (DataSize < 0)
            throw new ArgumentException($"The data set size N of beta-tcvae's estimator must be 0 (the training set's) or more; got {DataSize}.");
        return this;
    }
}
