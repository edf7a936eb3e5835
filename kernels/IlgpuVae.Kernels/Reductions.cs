using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>Index of each scalar in the loss-terms buffer.</summary>
public static class Term
{
    /// <summary>The three terms and the loss: the per-image means of the batch.</summary>
    public const int Recon = 0, Kl = 1, Mmd = 2, Loss = 3;
    /// <summary>Non-finite gradients the optimizer saw in the step (0 without an optimizer step).</summary>
    public const int Faults = 4;
    /// <summary>Entries of the terms buffer; the totals buffer holds the first <see cref="Summed"/>.</summary>
    public const int Count = 5, Summed = 4;
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
}

/// <summary>
/// The end of a step: the partial sums of the likelihood (per row), the KL (per code element) and the MMD
/// (per row of [z; p]) become terms[Recon, Kl, Mmd, Loss] = Σnll/B, Σkl/B, Σmmd and the weighted loss — whose KL
/// term under free bits is Σⱼ max(λ, mⱼ) of the per-dimension means <see cref="FreeBits"/> left, terms[Kl] unclamped —,
/// terms[Faults] takes the optimizer's count of non-finite gradients (and resets it for the next step), and
/// the four terms are added into totals (per-epoch sums, each weighted by B). In double and in one fixed
/// order, so the result does not depend on the launch shape and repeats bit for bit — unlike float atomics.
/// The CPU accelerator sums in one thread (<see cref="LossTermsCpu"/>); GPUs in one group, each thread a
/// strided share and then a fixed tree (<see cref="LossTermsGpu"/>).
/// </summary>
public static class Reductions
{
    /// <summary>The CPU accelerator's reduction: one thread sums everything in order.</summary>
    public static void LossTermsCpu(Index1D unused, LossWeights w,
        ArrayView<double> nllRows, ArrayView<double> klTerms, ArrayView<double> klMeans, ArrayView<double> mmdRows, ArrayView<int> faults,
        ArrayView<double> terms, ArrayView<double> totals) =>
        Finish(w, Sum(nllRows, w.B), Sum(klTerms, w.KlTerms), Sum(mmdRows, w.MmdRows), klMeans, faults, terms, totals);

    /// <summary>The GPUs' reduction: one group, a strided share per thread, then a fixed tree.</summary>
    public static void LossTermsGpu(LossWeights w,
        ArrayView<double> nllRows, ArrayView<double> klTerms, ArrayView<double> klMeans, ArrayView<double> mmdRows, ArrayView<int> faults,
        ArrayView<double> terms, ArrayView<double> totals)
    {
        var scratch = SharedScratch.ForReduction();
        double nll = GroupReductions.Sum(StridedPart(nllRows, w.B), scratch);
        double kl = GroupReductions.Sum(StridedPart(klTerms, w.KlTerms), scratch);
        double mmd = GroupReductions.Sum(StridedPart(mmdRows, w.MmdRows), scratch);
        if (Group.IdxX == 0) Finish(w, nll, kl, mmd, klMeans, faults, terms, totals);
    }

    static void Finish(LossWeights w, double nll, double kl, double mmd, ArrayView<double> klMeans, ArrayView<int> faults,
        ArrayView<double> terms, ArrayView<double> totals)
    {
        double recon = nll / w.B, klMean = kl / w.B;
        double klObjective = w.ClampedDims > 0 ? FreeBits.ClampedSum(klMeans, w.ClampedDims, w.FreeBits) : klMean;
        terms[Term.Recon] = recon;
        terms[Term.Kl] = klMean;
        terms[Term.Mmd] = mmd;
        terms[Term.Loss] = recon + w.Kl * klObjective + w.Mmd * mmd;
        terms[Term.Faults] = faults[0];
        faults[0] = 0;
        for (int t = 0; t < Term.Summed; t++)
            totals[t] += terms[t] * w.B;
    }

    /// <summary>This thread's share of values[0..n): elements t, t + T, … in order.</summary>
    static double StridedPart(ArrayView<double> values, int n)
    {
        double s = 0;
        for (int i = Group.IdxX; i < n; i += Group.DimX) s += values[i];
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
