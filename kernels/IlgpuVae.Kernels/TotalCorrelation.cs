using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>Everything the total-correlation kernels need besides their buffers (<see cref="TotalCorrelation"/>).</summary>
public struct TcProblem
{
    /// <summary>Codes z [B, k] and the posteriors they were drawn from, heads [B, 2k] = [μ | log σ²] per row.</summary>
    public int B, Latent;
    /// <summary>log(N·M) of minibatch-weighted sampling (N the data set's size, M = B the batch's); log N where the batch is the whole set.</summary>
    public double LogNormalizer;
    /// <summary>
    /// The gradient's weights of the batch means of the three terms (the loss's weight over B): index-code MI, total
    /// correlation, dimension-wise KL. All 0: no gradient.
    /// </summary>
    public float MiWeight, TcWeight, DwklWeight;
    /// <summary>CPU (<see cref="TotalCorrelation.RowsCpu"/>): the launch's threads, each taking every Threads-th row or column.</summary>
    public int Threads;

    /// <summary>Whether a gradient is asked for.</summary>
    public readonly bool Gradient => MiWeight != 0f || TcWeight != 0f || DwklWeight != 0f;
    /// <summary>The weight of log q(zᵢ) in the loss: −MI + TC.</summary>
    public readonly double JointWeight => (double)TcWeight - MiWeight;
    /// <summary>The weight of Σ_d log q(zᵢ_d) in the loss: −TC + DWKL.</summary>
    public readonly double MarginalWeight => (double)DwklWeight - TcWeight;
}

/// <summary>
/// β-TC-VAE's decomposition of the KL (Chen, Li, Grosse &amp; Duvenaud 2018) by minibatch-weighted sampling. With
/// Lᵢⱼd = log q(zᵢd | xⱼ) = −½(log 2π + log σ²ⱼd + (zᵢd − μⱼd)²/σ²ⱼd) over the B × B × k pairs of the batch:
///   log q(zᵢ|xᵢ) = Σ_d Lᵢᵢd,   log q(zᵢ) ≈ LSEⱼ Σ_d Lᵢⱼd − log(N·M),   log q(zᵢd) ≈ LSEⱼ Lᵢⱼd − log(N·M),
///   log p(zᵢ) = −½ Σ_d (log 2π + zᵢd²),
///   MI = log q(zᵢ|xᵢ) − log q(zᵢ),  TC = log q(zᵢ) − Σ_d log q(zᵢd),  DWKL = Σ_d log q(zᵢd) − log p(zᵢ),
/// each averaged over the rows (their sum is the single-sample KL estimate log q(z|x) − log p(z)).
/// The gradient of a·MI + b·TC + c·DWKL (the weights over B): with pᵢⱼ = softmaxⱼ(Σ_d Lᵢⱼd) and rᵢⱼd = softmaxⱼ(Lᵢⱼd), each
/// Lᵢⱼd carries Cᵢⱼd = (b − a)·pᵢⱼ + (c − b)·rᵢⱼd + a·[i = j], and
///   ∂/∂zᵢd = −Σⱼ Cᵢⱼd·(zᵢd − μⱼd)/σ²ⱼd + c·zᵢd,   ∂/∂μⱼd = Σᵢ Cᵢⱼd·(zᵢd − μⱼd)/σ²ⱼd,
///   ∂/∂log σ²ⱼd = Σᵢ Cᵢⱼd·½((zᵢd − μⱼd)²/σ²ⱼd − 1).
/// z = μ + σε is the reparameterization's, so ∂/∂z also reaches μ and log σ² through its backward; the last two are the
/// direct paths, added into the heads' gradient after it. Two launches: the rows (log-sum-exps, row terms, ∂/∂z) and
/// the columns (∂/∂μ, ∂/∂log σ², which need every row's log-sum-exps). Everything in double: the log-sum-exps run over
/// B terms, and their softmax weights are differences of O(B·k) sums.
/// GPUs run <see cref="TcTiles"/> (a group per block of rows or columns, tiles of the other side in shared memory); the
/// CPU accelerator runs <see cref="TcVectorRows"/> (vector code, a band of rows or columns per thread).
/// Layouts: lse [B, k + 1] = (LSEⱼ Σ_d Lᵢⱼd, then LSEⱼ Lᵢⱼd per d), without the normalizer; rowTerms [B, 3] = (MI, TC, DWKL).
/// </summary>
public static class TotalCorrelation
{
    /// <summary>½ log 2π.</summary>
    public const double HalfLog2Pi = 0.91893853320467274;

    /// <summary>Row terms per row: MI, TC, DWKL.</summary>
    public const int TermsPerRow = 3;

    /// <summary>CPU: rows thread, thread + p.Threads, … — their log-sum-exps, row terms and, with a gradient, dz += ∂/∂z.</summary>
    public static void RowsCpu(Index1D thread, TcProblem p, ArrayView<float> z, ArrayView<float> heads,
        ArrayView<double> lse, ArrayView<double> rowTerms, ArrayView<float> dz) =>
        TcVectorRows.Rows(p, thread, p.Threads, z, heads, lse, rowTerms, dz);

    /// <summary>CPU: columns thread, thread + p.Threads, … — dHeads += the direct ∂/∂μ and ∂/∂log σ².</summary>
    public static void ColumnsCpu(Index1D thread, TcProblem p, ArrayView<float> z, ArrayView<float> heads,
        ArrayView<double> lse, ArrayView<float> dHeads) =>
        TcVectorRows.Columns(p, thread, p.Threads, z, heads, lse, dHeads);

    /// <summary>log q(z | x) of one dimension from the column's offset −½(log 2π + log σ²) and 1/σ².</summary>
    public static double LogDensity(double z, double mu, double inverseVariance, double offset)
    {
        double d = z - mu;
        return offset - 0.5 * d * d * inverseVariance;
    }

    /// <summary>−½(log 2π + log σ²): the part of log q(z | x) that does not depend on z.</summary>
    public static double Offset(double logVar) => -HalfLog2Pi - 0.5 * logVar;

    /// <summary>
    /// The row terms (MI, TC, DWKL) of code <paramref name="row"/> from its log-sum-exps: the joint one and the sum of the
    /// per-dimension ones (both without the normalizer), its own posterior's log-density and log p(z).
    /// </summary>
    public static void WriteRowTerms(TcProblem p, int row, double joint, double marginalSum, double ownLogDensity, double logPrior,
        ArrayView<double> rowTerms)
    {
        double logQz = joint - p.LogNormalizer, logQzProduct = marginalSum - p.Latent * p.LogNormalizer;
        rowTerms[row * TermsPerRow] = ownLogDensity - logQz;
        rowTerms[row * TermsPerRow + 1] = logQz - logQzProduct;
        rowTerms[row * TermsPerRow + 2] = logQzProduct - logPrior;
    }

    /// <summary>Σ_d log q(zᵢd | xᵢ) and log p(zᵢ) of row <paramref name="row"/>, read from z and heads.</summary>
    public static double OwnLogDensity(int row, int k, ArrayView<float> z, ArrayView<float> heads, out double logPrior)
    {
        double own = 0;
        logPrior = 0;
        for (int t = 0; t < k; t++)
        {
            double zt = z[row * k + t], logVar = heads[row * 2 * k + k + t];
            own += LogDensity(zt, heads[row * 2 * k + t], DeviceMath.Exp(-logVar), Offset(logVar));
            logPrior -= HalfLog2Pi + 0.5 * zt * zt;
        }
        return own;
    }

    /// <summary>
    /// One value into a running log-sum-exp kept as (max, Σ exp(x − max)); a sum of 0 means empty. Turned into the
    /// log-sum-exp by max + log sum.
    /// </summary>
    public static void Accumulate(double x, ref double max, ref double sum)
    {
        if (sum == 0.0)
        {
            max = x;
            sum = 1.0;
        }
        else if (x > max)
        {
            sum = sum * DeviceMath.Exp(max - x) + 1.0;
            max = x;
        }
        else sum += DeviceMath.Exp(x - max);
    }
}
