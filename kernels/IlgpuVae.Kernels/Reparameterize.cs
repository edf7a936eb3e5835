using ILGPU;
using ILGPU.Algorithms;

namespace IlgpuVae.Kernels;

/// <summary>
/// The Gaussian heads and the reparameterization trick, with the analytic KL term fused in.
/// heads [B, 2k] is the encoder's last layer: μ = heads[:, :k], log σ² = heads[:, k:] (the two PyTorch heads
/// encoder.mu and encoder.logvar laid side by side, so one product computes both).
///   z = μ + exp(½·log σ²)·ε,  ε [B, k] (drawn by <see cref="CounterRng"/> or supplied),
///   KL row b = ½ Σⱼ (μ² + σ² − 1 − log σ²)  (<see cref="Divergences.GaussianKl"/>).
/// </summary>
public static class Reparameterize
{
    /// <summary>z and the per-row KL (accumulated in double); one thread per batch row.</summary>
    public static void Forward(Index1D b, int latent,
        ArrayView<float> heads, ArrayView<float> eps, ArrayView<float> z, ArrayView<double> klRows)
    {
        double kl = 0;
        for (int j = 0; j < latent; j++)
        {
            float mu = heads[b * 2 * latent + j];
            float logVar = heads[b * 2 * latent + latent + j];
            z[b * latent + j] = mu + XMath.Exp(0.5f * logVar) * eps[b * latent + j];
            kl += Divergences.GaussianKl(mu, logVar);
        }
        klRows[b] = kl;
    }

    /// <summary>
    /// ∂L/∂heads from ∂L/∂z and the KL weight, grid-stride over the B·k elements:
    ///   ∂L/∂μ = dz + w·μ,   ∂L/∂log σ² = dz·ε·½σ + w·½(σ² − 1),
    /// where <paramref name="klGradScale"/> w = (1 − α)/B is the KL term's weight over the batch mean.
    /// </summary>
    public static void Backward(Index1D thread, Shares s, int latent, float klGradScale,
        ArrayView<float> heads, ArrayView<float> eps, ArrayView<float> dz, ArrayView<float> dHeads)
    {
        for (int run = s.Start(thread); run < s.Length; run = s.Next(run))
            for (int i = run; i < s.End(run); i++)
            {
                int b = i / latent, j = i - b * latent;
                int mu = b * 2 * latent + j, logVar = mu + latent;
                float halfSigma = 0.5f * XMath.Exp(0.5f * heads[logVar]);
                float g = dz[i];
                dHeads[mu] = g + klGradScale * Divergences.GaussianKlGradMu(heads[mu]);
                dHeads[logVar] = g * eps[i] * halfSigma + klGradScale * Divergences.GaussianKlGradLogVar(heads[logVar]);
            }
    }
}
