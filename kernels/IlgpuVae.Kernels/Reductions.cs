using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>Index of each scalar in the loss-terms buffer.</summary>
public static class Term
{
    public const int Recon = 0, Kl = 1, Mmd = 2, Loss = 3, Count = 4;
}

/// <summary>The weights that turn the three terms into the loss.</summary>
public struct LossWeights
{
    public int B;
    /// <summary>B + M: how many MMD row shares there are (0 when the MMD is not computed).</summary>
    public int MmdRows;
    /// <summary>1 − α and α + λ − 1.</summary>
    public float Kl, Mmd;
}

/// <summary>
/// Reductions of per-row partial sums into the scalar loss terms. They run in one thread and a fixed
/// order, in double, so the result does not depend on the launch shape and repeats bit for bit —
/// unlike float atomics, whose order varies.
/// </summary>
public static class Reductions
{
    /// <summary>
    /// terms[Recon] = Σ nll/B, terms[Kl] = Σ kl/B, terms[Mmd] = Σ mmdRows, terms[Loss] = their weighted sum;
    /// the terms are also added into <paramref name="totals"/> (per-epoch sums, one per term).
    /// </summary>
    public static void LossTerms(Index1D unused, LossWeights w,
        ArrayView<double> nllRows, ArrayView<double> klRows, ArrayView<double> mmdRows,
        ArrayView<double> terms, ArrayView<double> totals)
    {
        double recon = Sum(nllRows, w.B) / w.B;
        double kl = Sum(klRows, w.B) / w.B;
        double mmd = Sum(mmdRows, w.MmdRows);
        terms[Term.Recon] = recon;
        terms[Term.Kl] = kl;
        terms[Term.Mmd] = mmd;
        terms[Term.Loss] = recon + w.Kl * kl + w.Mmd * mmd;
        for (int t = 0; t < Term.Count; t++)
            totals[t] += terms[t] * w.B;
    }

    /// <summary>Σ values[0..n) in index order.</summary>
    public static double Sum(ArrayView<double> values, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += values[i];
        return s;
    }
}
