using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>Index of each scalar in the loss-terms buffer.</summary>
public static class Term
{
    /// <summary>The three terms and the loss: the per-image means of the batch.</summary>
    public const int Recon = 0, Kl = 1, Mmd = 2, Loss = 3;
    /// <summary>Non-finite gradients the optimizer saw in the step (0 without an optimizer step).</summary>
    public const int Faults = 4;
    /// <summary>β-TC-VAE's decomposition of the KL (<see cref="TotalCorrelation"/>), per-image means; 0 for other objectives.</summary>
    public const int Mi = 5, Tc = 6, Dwkl = 7;
    /// <summary>Entries of the terms buffer; the totals buffer holds as many, every one but <see cref="Faults"/> summed.</summary>
    public const int Count = 8, Summed = 8;
}

/// <summary>The weights that turn the three terms into the loss, and how many partials each term has.</summary>
public struct LossWeights
{
    /// <summary>Rows of the batch: the likelihood's partials, and the divisor of the means.</summary>
    public int B;
    /// <summary>KL partials: one per code element, B·k.</summary>
    public int KlTerms;
    /// <summary>B + M: how many MMD row shares there are (0 when the MMD is not computed).</summary>
    public int MmdRows;
    /// <summary>1 − α (times the warm-up's factor while it lasts) and α + λ − 1.</summary>
    public float Kl, Mmd;
    /// <summary>
    /// Free bits: the dimensions whose batch-mean KL the loss clamps at <see cref="FreeBits"/> (the KL term of the loss is
    /// then <see cref="Kernels.FreeBits.ClampedSum"/> of the means, terms[Kl] still the unclamped mean); 0 without free bits.
    /// </summary>
    public int ClampedDims;
    /// <summary>λ of free bits, in nats per dimension.</summary>
    public double FreeBits;
    /// <summary>
    /// β-TC-VAE: the rows of the total correlation's row terms (B; 0 for other objectives, whose terms[Mi … Dwkl] are 0), and
    /// the loss's weights of the index-code MI, the total correlation and the dimension-wise KL.
    /// </summary>
    public int TcRows;
    /// <summary>The weights of the three terms of <see cref="TcRows"/>: 1, β, 1 for β-TC-VAE.</summary>
    public float MiWeight, TcWeight, DwklWeight;
}

/// <summary>
/// The end of a step: the partial sums of the likelihood (per row), the KL (per code element) and the MMD
/// (per row of [z; p]) become terms[Recon, Kl, Mmd, Loss] = Σnll/B, Σkl/B, Σmmd and the weighted loss — whose KL
/// term under free bits is Σⱼ max(λ, mⱼ) of the per-dimension means <see cref="FreeBits"/> left, terms[Kl] unclamped —,
/// terms[Faults] takes the optimizer's count of non-finite gradients (and resets it for the next step), and
/// the terms are added into totals (per-epoch sums, each weighted by B). β-TC-VAE's row terms (MI, TC, DWKL per row)
/// become terms[Mi, Tc, Dwkl], and their weighted sum joins the loss. In double and in one fixed
/// order, so the result does not depend on the launch shape and repeats bit for bit — unlike float atomics.
/// The CPU accelerator sums in one thread (<see cref="LossTermsCpu"/>); GPUs in one group, each thread a
/// strided share and then a fixed tree (<see cref="LossTermsGpu"/>).
/// </summary>
public static class Reductions
{
    /// <summary>The CPU accelerator's reduction: one thread sums everything in order.</summary>
    public static void LossTermsCpu(Index1D unused, LossWeights w,
        ArrayView<double> nllRows, ArrayView<double> klTerms, ArrayView<double> klMeans, ArrayView<double> mmdRows, ArrayView<double> tcRows,
        ArrayView<int> faults, ArrayView<double> terms, ArrayView<double> totals) =>
        Finish(w, Sum(nllRows, w.B), Sum(klTerms, w.KlTerms), Sum(mmdRows, w.MmdRows),
            SumEvery(tcRows, w.TcRows, 0), SumEvery(tcRows, w.TcRows, 1), SumEvery(tcRows, w.TcRows, 2), klMeans, faults, terms, totals);

    /// <summary>The GPUs' reduction: one group, a strided share per thread, then a fixed tree.</summary>
    public static void LossTermsGpu(LossWeights w,
        ArrayView<double> nllRows, ArrayView<double> klTerms, ArrayView<double> klMeans, ArrayView<double> mmdRows, ArrayView<double> tcRows,
        ArrayView<int> faults, ArrayView<double> terms, ArrayView<double> totals)
    {
        var scratch = SharedScratch.ForReduction();
        double nll = GroupReductions.Sum(StridedPart(nllRows, w.B), scratch);
        double kl = GroupReductions.Sum(StridedPart(klTerms, w.KlTerms), scratch);
        double mmd = GroupReductions.Sum(StridedPart(mmdRows, w.MmdRows), scratch);
        double mi = 0, tc = 0, dwkl = 0;
        if (w.TcRows > 0)
        {
            mi = GroupReductions.Sum(StridedRowPart(tcRows, w.TcRows, 0), scratch);
            tc = GroupReductions.Sum(StridedRowPart(tcRows, w.TcRows, 1), scratch);
            dwkl = GroupReductions.Sum(StridedRowPart(tcRows, w.TcRows, 2), scratch);
        }
        if (Group.IdxX == 0) Finish(w, nll, kl, mmd, mi, tc, dwkl, klMeans, faults, terms, totals);
    }

    static void Finish(LossWeights w, double nll, double kl, double mmd, double mi, double tc, double dwkl, ArrayView<double> klMeans,
        ArrayView<int> faults, ArrayView<double> terms, ArrayView<double> totals)
    {
        double recon = nll / w.B, klMean = kl / w.B;
        double klObjective = w.ClampedDims > 0 ? FreeBits.ClampedSum(klMeans, w.ClampedDims, w.FreeBits) : klMean;
        terms[Term.Recon] = recon;
        terms[Term.Kl] = klMean;
        terms[Term.Mmd] = mmd;
        terms[Term.Loss] = recon + w.Kl * klObjective + w.Mmd * mmd;
        terms[Term.Mi] = mi / w.B;
        terms[Term.Tc] = tc / w.B;
        terms[Term.Dwkl] = dwkl / w.B;
        // Only β-TC-VAE's loss has the terms, so every other objective's loss keeps its bits.
        if (w.TcRows > 0) terms[Term.Loss] += w.MiWeight * terms[Term.Mi] + w.TcWeight * terms[Term.Tc] + w.DwklWeight * terms[Term.Dwkl];
        terms[Term.Faults] = faults[0];
        faults[0] = 0;
        for (int t = 0; t < Term.Summed; t++)
            if (t != Term.Faults) totals[t] += terms[t] * w.B;
    }

    /// <summary>This thread's share of values[0..n): elements t, t + T, … in order.</summary>
    static double StridedPart(ArrayView<double> values, int n)
    {
        double s = 0;
        for (int i = Group.IdxX; i < n; i += Group.DimX) s += values[i];
        return s;
    }

    /// <summary>This thread's share of term <paramref name="term"/> of rows[0..n) of three: rows t, t + T, … in order.</summary>
    static double StridedRowPart(ArrayView<double> values, int n, int term)
    {
        double s = 0;
        for (int i = Group.IdxX; i < n; i += Group.DimX) s += values[i * TotalCorrelation.TermsPerRow + term];
        return s;
    }

    /// <summary>Σ of term <paramref name="term"/> over rows[0..n) of three, in row order.</summary>
    static double SumEvery(ArrayView<double> values, int n, int term)
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += values[i * TotalCorrelation.TermsPerRow + term];
        return s;
    }

    /// <summary>Σ values[0..n) in index order.</summary>
    public static double Sum(ArrayView<double> values, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += values[i];
        return s;
    }
}
