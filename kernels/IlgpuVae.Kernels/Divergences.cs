using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>Which positive-definite kernel the MMD uses.</summary>
public enum MmdKernel
{
    /// <summary>k(a, b) = exp(−‖a − b‖² / (2h²)), h = bandwidth.</summary>
    Rbf = 0,
    /// <summary>k(a, b) = c / (c + ‖a − b‖²), the inverse multiquadric.</summary>
    Imq = 1,
}

/// <summary>Everything the MMD kernel needs besides its buffers.</summary>
public struct MmdProblem
{
    /// <summary>Codes z [B, k] and prior draws [M, k]; M may differ from B.</summary>
    public int B, M, Latent;
    /// <summary>The kernel k(a, b), a <see cref="MmdKernel"/> as an int.</summary>
    public int Kernel;
    /// <summary>h for RBF, c for IMQ.</summary>
    public float KernelParameter;
    /// <summary>1: the U-statistic (i = j left out of the within-set sums); 0: the biased V-statistic.</summary>
    public int Unbiased;
    /// <summary>The weight of MMD² in the loss; ∂(weight·MMD²)/∂z is added into dz. 0 computes no gradient.</summary>
    public float GradScale;
    /// <summary>
    /// 1: each code row, its dz complete, also runs the reparameterization's backward into dHeads
    /// (<see cref="Reparameterize.BackwardElement"/>) with the KL weight <see cref="KlGradScale"/>; 0: dz only (as under
    /// a flow posterior, whose dz goes back through the flow first).
    /// </summary>
    public int Backward;
    /// <summary>The KL's weight over B, for the reparameterization's backward.</summary>
    public float KlGradScale;
    /// <summary>CPU (<see cref="Divergences.MmdCpu"/>): the launch's threads, each taking every Threads-th row.</summary>
    public int Threads;
    /// <summary>
    /// The code rows this launch computes, [OwnFirst, OwnFirst + OwnRows) of the B codes (all of them on one device; a
    /// data-parallel replica's shard otherwise): their row terms go to their own index of rowTerms, their gradients to
    /// dz, heads, ε and dHeads, which hold only these rows (row OwnFirst first). z always holds all B codes, since every
    /// pair of the global batch counts. The host sets OwnRows = B when it is left 0.
    /// </summary>
    public int OwnFirst, OwnRows;
    /// <summary>1: leave out the M prior rows' terms (the replica holding row 0 computes them); 0: compute them.</summary>
    public int SkipPrior;

    /// <summary>The rows of [z; p] this launch computes: its own code rows, then the prior rows unless skipped.</summary>
    public readonly int LaunchRows => OwnRows + (SkipPrior != 0 ? 0 : M);
}

/// <summary>
/// The divergences between the codes and the prior N(0, I).
///
/// KL(N(μ, σ²) ‖ N(0, 1)) = ½(μ² + σ² − 1 − log σ²) per dimension, ∂/∂μ = μ, ∂/∂log σ² = ½(σ² − 1).
///
/// MMD²(q, p) between codes z [B, k] and prior draws p [M, k]:
///   unbiased: Σ_{i≠j} k(zᵢ, zⱼ)/(B(B−1)) + Σ_{i≠j} k(pᵢ, pⱼ)/(M(M−1)) − 2 Σ_{i,j} k(zᵢ, pⱼ)/(BM),
///   biased:   the same with the diagonals kept and B², M² as divisors.
/// ∂MMD²/∂zᵢ = 2/(B(B−1)) Σ_{j≠i} ∇ₐk(zᵢ, zⱼ) − 2/(BM) Σⱼ ∇ₐk(zᵢ, pⱼ), with
///   ∇ₐk = −k·(a − b)/h² (RBF) and −2k²·(a − b)/c (IMQ).
/// MMD² is a small difference of sums of O(1) values, so kernel values and sums are kept in double.
/// GPUs run <see cref="MmdTiles"/>, pairwise tiles in shared memory; the CPU accelerator runs <see cref="MmdCpu"/>,
/// vector code over the rows of a few threads. Both sum a row's kernel values in column order; a row writes its share
/// of MMD² to the row terms at its index in [z; p], so MMD² is their sum over every replica.
/// </summary>
public static class Divergences
{
    /// <summary>The unbiased estimator divides by B(B − 1) and M(M − 1): it needs two codes and two prior draws.</summary>
    public const int UnbiasedMinimum = 2;

    /// <summary>Whether MMD² can be estimated from <paramref name="codes"/> codes and <paramref name="priorDraws"/> prior draws.</summary>
    public static bool CanEstimate(bool unbiased, int codes, int priorDraws) =>
        !unbiased || codes >= UnbiasedMinimum && priorDraws >= UnbiasedMinimum;

    /// <summary>KL(N(μ, σ²) ‖ N(0, 1)) of one dimension.</summary>
    public static float GaussianKl(float mu, float logVar) => 0.5f * (mu * mu + DeviceMath.Exp(logVar) - 1f - logVar);

    /// <summary>∂KL/∂μ = μ.</summary>
    public static float GaussianKlGradMu(float mu) => mu;

    /// <summary>∂KL/∂log σ² = ½(σ² − 1).</summary>
    public static float GaussianKlGradLogVar(float logVar) => 0.5f * (DeviceMath.Exp(logVar) - 1f);

    /// <summary>
    /// CPU: the launch's rows thread, thread + p.Threads, … as vector code (<see cref="MmdVectorRows"/>), then, with
    /// p.Backward, the reparameterization's backward of this thread's own code rows, their dz now complete.
    /// </summary>
    public static void MmdCpu(Index1D thread, MmdProblem p,
        ArrayView<float> z, ArrayView<float> prior, ArrayView<float> heads, ArrayView<float> eps,
        ArrayView<double> rowTerms, ArrayView<float> dz, ArrayView<float> dHeads)
    {
        MmdVectorRows.Rows(p, thread, p.Threads, z, prior, rowTerms, dz);
        if (p.Backward == 0) return;
        var rows = new Partition { Length = p.OwnRows, Threads = p.Threads, Chunk = 1 };
        foreach (int r in rows.Of(thread))
            for (int i = r * p.Latent; i < (r + 1) * p.Latent; i++)
                Reparameterize.BackwardElement(i, p.Latent, p.KlGradScale, 0, dz[i], heads, eps, dHeads);
    }

    /// <summary>B(B − 1) or M(M − 1) for the U-statistic, B² or M² for the V-statistic.</summary>
    public static double WithinSetDivisor(int n, int unbiased) => unbiased != 0 ? (double)n * (n - 1) : (double)n * n;

    /// <summary>k and its slope s (∇ₐk = s·(a − b)) from ‖a − b‖².</summary>
    public static double KernelOfSquaredDistance(double d2, MmdProblem p, out double slope)
    {
        if (p.Kernel == (int)MmdKernel.Rbf)
        {
            double h2 = (double)p.KernelParameter * p.KernelParameter;
            double k = DeviceMath.Exp(-d2 / (2.0 * h2));
            slope = -k / h2;
            return k;
        }
        else
        {
            double c = p.KernelParameter;
            double k = c / (c + d2);
            slope = -2.0 * k * k / c;
            return k;
        }
    }

}
