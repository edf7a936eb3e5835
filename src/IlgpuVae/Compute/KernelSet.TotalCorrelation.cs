using ILGPU;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

// β-TC-VAE's decomposition of the KL by minibatch-weighted sampling (Kernels.TotalCorrelation): the rows' launch and the
// columns' launch, per backend.
internal abstract partial class KernelSet
{
    /// <summary>
    /// The rows of the B × B × k log-density matrix: each code's log-sum-exps into <paramref name="lse"/> [B, k + 1] and its
    /// MI, TC and DWKL into <paramref name="rowTerms"/> [B, 3]; when p asks for a gradient, dz [B, k] += its ∂/∂z.
    /// </summary>
    public void TotalCorrelationRows(TcProblem p, ArrayView<float> z, ArrayView<float> heads,
        ArrayView<double> lse, ArrayView<double> rowTerms, ArrayView<float> dz)
    {
        CheckTotalCorrelation(p, z, heads, lse);
        Require(rowTerms, (long)p.B * TotalCorrelation.TermsPerRow, nameof(rowTerms));
        if (p.Gradient) Require(dz, (long)p.B * p.Latent, nameof(dz));
        LaunchTotalCorrelationRows(p, z, heads, lse, rowTerms, dz);
    }

    /// <summary>
    /// The columns: dHeads [B, 2k] += the direct ∂/∂μ and ∂/∂log σ² of the weighted terms, from the log-sum-exps
    /// <see cref="TotalCorrelationRows"/> left in <paramref name="lse"/> (after the reparameterization's backward wrote dHeads).
    /// </summary>
    public void TotalCorrelationColumns(TcProblem p, ArrayView<float> z, ArrayView<float> heads, ArrayView<double> lse, ArrayView<float> dHeads)
    {
        CheckTotalCorrelation(p, z, heads, lse);
        if (!p.Gradient) throw new InternalFaultException("The total correlation's columns were launched without a gradient to compute.");
        Require(dHeads, 2L * p.B * p.Latent, nameof(dHeads));
        LaunchTotalCorrelationColumns(p, z, heads, lse, dHeads);
    }

    static void CheckTotalCorrelation(TcProblem p, ArrayView<float> z, ArrayView<float> heads, ArrayView<double> lse)
    {
        if (p.B < 1 || p.Latent < 1) throw new InternalFaultException($"The total correlation of {p.B} codes of {p.Latent} dimensions.");
        Require(z, (long)p.B * p.Latent, nameof(z)); Require(heads, 2L * p.B * p.Latent, nameof(heads));
        Require(lse, (long)p.B * (p.Latent + 1), nameof(lse));
    }

    private protected abstract void LaunchTotalCorrelationRows(TcProblem p, ArrayView<float> z, ArrayView<float> heads,
        ArrayView<double> lse, ArrayView<double> rowTerms, ArrayView<float> dz);

    private protected abstract void LaunchTotalCorrelationColumns(TcProblem p, ArrayView<float> z, ArrayView<float> heads,
        ArrayView<double> lse, ArrayView<float> dHeads);
}
