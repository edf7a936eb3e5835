using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>The shape of a reparameterization launch, and where ε comes from.</summary>
public struct ReparameterizeProblem
{
    /// <summary>Dimensions of each code.</summary>
    public int Latent;
    /// <summary>1: draw ε[i] = N(0, 1) draw i of <see cref="Key"/> and store it; 0: read the ε already in place.</summary>
    public int DrawNoise;
    /// <summary>The counter-based generator's key of this step's ε.</summary>
    public ulong Key;
    /// <summary>
    /// ε[i] is draw <see cref="CounterOffset"/> + i of <see cref="Key"/>: a data-parallel replica's shard starting at
    /// row r sets r·k, so its rows draw exactly what they draw in a single-device batch; 0 otherwise.
    /// </summary>
    public long CounterOffset;
    /// <summary>
    /// 1: the posterior continues through a flow (<see cref="Flows"/>), and the KL element is its single-sample
    /// estimate's Gaussian part, −½ε² − ½log σ² (the flow steps add theirs); 0: the analytic Gaussian KL.
    /// </summary>
    public int FlowKl;
    /// <summary>The B·k elements among the launch's threads.</summary>
    public Partition Items;
}

/// <summary>
/// The Gaussian heads and the reparameterization trick, with the noise draw and the analytic KL term fused in.
/// heads [B, 2k] is the encoder's last layer: μ = heads[:, :k], log σ² = heads[:, k:] (the two PyTorch heads
/// encoder.mu and encoder.logvar laid side by side, so one product computes both).
///   z = μ + exp(½·log σ²)·ε,  ε [B, k] (drawn by <see cref="CounterRng"/> here, or supplied),
///   KL element (b, j) = ½(μ² + σ² − 1 − log σ²)  (<see cref="Divergences.GaussianKl"/>), summed by the loss reduction;
///   under a flow, log q(z₀|x) − log N(z₀; 0, 1)'s share without z's prior term: −½ε² − ½log σ² (the 2π terms cancel
///   against the prior's, which the last flow step adds as ½z_T²).
/// Both directions are element-wise over the B·k codes (grid-stride, neighbouring threads on neighbouring
/// elements); the CPU accelerator draws the noise a vector at a time (<see cref="ForwardCpu"/>), with the same bits.
/// </summary>
public static class Reparameterize
{
    /// <summary>z, ε (when drawn) and the per-element KL in double.</summary>
    public static void ForwardGpu(Index1D thread, ReparameterizeProblem p,
        ArrayView<float> heads, ArrayView<float> eps, ArrayView<float> z, ArrayView<double> klTerms)
    {
        var s = p.Items;
        foreach (int i in s.Of(thread))
        {
            float e;
            if (p.DrawNoise != 0)
            {
                e = CounterRng.Normal(p.Key, p.CounterOffset + i);
                eps[i] = e;
            }
            else e = eps[i];
            ForwardElement(i, p, e, heads, z, klTerms);
        }
    }

    /// <summary>Element i = (b, j) of the forward, given its ε: z[i] and the KL element.</summary>
    internal static void ForwardElement(int i, ReparameterizeProblem p, float e, ArrayView<float> heads, ArrayView<float> z, ArrayView<double> klTerms)
    {
        int k = p.Latent, b = i / k, mu = i + b * k, logVar = mu + k;
        z[i] = heads[mu] + DeviceMath.Exp(0.5f * heads[logVar]) * e;
        klTerms[i] = p.FlowKl != 0 ? -0.5 * e * e - 0.5 * heads[logVar] : Divergences.GaussianKl(heads[mu], heads[logVar]);
    }

    /// <summary>CPU: <see cref="ForwardGpu"/> over each of the thread's runs, the draws as vector code (<see cref="NoiseRows"/>).</summary>
    public static void ForwardCpu(Index1D thread, ReparameterizeProblem p,
        ArrayView<float> heads, ArrayView<float> eps, ArrayView<float> z, ArrayView<double> klTerms)
    {
        var s = p.Items;
        foreach (var run in s.RunsOf(thread))
            NoiseRows.Reparameterize(p, run.From, run.To, heads, eps, z, klTerms);
    }

    /// <summary>
    /// ∂L/∂heads from ∂L/∂z and the KL weight, grid-stride over the B·k elements (see <see cref="BackwardElement"/>).
    /// </summary>
    public static void Backward(Index1D thread, Partition s, int latent, float klGradScale, int flowKl,
        ArrayView<float> heads, ArrayView<float> eps, ArrayView<float> dz, ArrayView<float> dHeads)
    {
        foreach (int i in s.Of(thread))
            BackwardElement(i, latent, klGradScale, flowKl, dz[i], heads, eps, dHeads);
    }

    /// <summary>
    /// <see cref="Backward"/> of the Gaussian with the KL term's weight per dimension: element (b, j) takes
    /// <paramref name="klGradScales"/>[j] — free bits' w or 0 (<see cref="FreeBits"/>) — where <see cref="Backward"/> takes one w.
    /// </summary>
    public static void BackwardPerDimension(Index1D thread, Partition s, int latent, ArrayView<float> klGradScales,
        ArrayView<float> heads, ArrayView<float> eps, ArrayView<float> dz, ArrayView<float> dHeads)
    {
        foreach (int i in s.Of(thread))
            BackwardElement(i, latent, klGradScales[i % latent], 0, dz[i], heads, eps, dHeads);
    }

    /// <summary>
    /// Element i = (b, j) of the backward, given its complete ∂L/∂z:
    ///   ∂L/∂μ = dz + w·μ,   ∂L/∂log σ² = dz·ε·½σ + w·½(σ² − 1),
    /// where <paramref name="klGradScale"/> w = (1 − α)/B is the KL term's weight over the batch mean; under a flow
    /// (<paramref name="flowKl"/> = 1, dz then ∂L/∂z₀ from the flow's backward): ∂L/∂μ = dz, ∂L/∂log σ² = dz·ε·½σ − ½w.
    /// The MMD kernels call it too, once a code row's gradient is complete.
    /// </summary>
    public static void BackwardElement(int i, int latent, float klGradScale, int flowKl, float dz,
        ArrayView<float> heads, ArrayView<float> eps, ArrayView<float> dHeads)
    {
        int b = i / latent, mu = i + b * latent, logVar = mu + latent;
        float halfSigma = 0.5f * DeviceMath.Exp(0.5f * heads[logVar]);
        dHeads[mu] = flowKl != 0 ? dz : dz + klGradScale * Divergences.GaussianKlGradMu(heads[mu]);
        dHeads[logVar] = dz * eps[i] * halfSigma
            + (flowKl != 0 ? -0.5f * klGradScale : klGradScale * Divergences.GaussianKlGradLogVar(heads[logVar]));
    }
}
