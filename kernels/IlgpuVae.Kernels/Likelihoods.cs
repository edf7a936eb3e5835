using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>The decoder's output distribution p(x|z).</summary>
public enum Likelihood
{
    /// <summary>Independent Bernoulli pixels; the decoder outputs logits.</summary>
    Bernoulli,
    /// <summary>Independent Gaussians with a fixed scalar log-variance; the decoder outputs means.</summary>
    Gaussian,
}

/// <summary>What <see cref="Likelihoods"/> computes: the observation model, the sizes and the gradient's scale.</summary>
public struct LikelihoodProblem
{
    /// <summary>Rows and values per row of the decoder output and x.</summary>
    public int Rows, Dim;
    /// <summary>1: Bernoulli with logits; 0: Gaussian with the fixed log-variance <see cref="LogVar"/>.</summary>
    public int Bernoulli;
    /// <summary>The Gaussian's fixed log-variance.</summary>
    public float LogVar;
    /// <summary>The gradient's scale (1/B for the batch mean); 0 writes no gradient.</summary>
    public float GradScale;
    /// <summary>CPU (<see cref="Likelihoods.RowsCpu"/>): the launch's threads, each taking a band of rows.</summary>
    public int Threads;
    /// <summary>
    /// Output rows per row of x (1 or more): row b is compared with x's row b / XRepeat, so an image's importance
    /// samples share its one row of x instead of a copy each.
    /// </summary>
    public int XRepeat;

    /// <summary>How far x's row of output row <paramref name="b"/> lies from the output row, in elements.</summary>
    public readonly int XShift(int b) => (b / XRepeat - b) * Dim;
}

/// <summary>
/// The reconstruction term −log p(x|z) per batch row (accumulated in double) and its gradient with respect
/// to the decoder's output, in one pass over the row; out is [B, d], x is [B / XRepeat, d].
///   Bernoulli with logits l: −log p = Σᵢ softplus(lᵢ) − xᵢ·lᵢ,  ∂/∂l = σ(l) − x  (stable for |l| ≫ 1).
///   Gaussian with mean m and fixed log-variance s: −log p = ½ Σᵢ [(xᵢ − mᵢ)²·e^(−s) + s + log 2π],
///   ∂/∂m = (m − x)·e^(−s).
/// GPUs run a group per row (<see cref="RowsGpu"/>: coalesced, a tree sum); the CPU accelerator runs
/// <see cref="RowsCpu"/>, vector code over a band of rows per thread. Both add the same per-element terms.
/// </summary>
public static class Likelihoods
{
    const double Log2Pi = 1.8378770664093453;

    /// <summary>CPU: a band of rows per thread, as vector code (<see cref="LikelihoodRows"/>).</summary>
    public static void RowsCpu(Index1D thread, LikelihoodProblem p,
        ArrayView<float> output, ArrayView<float> x, ArrayView<double> nllRows, ArrayView<float> dOutput)
    {
        var (b0, b1) = Partition.Band(thread, p.Threads, p.Rows);
        if (b0 < b1) LikelihoodRows.Rows(p, b0, b1, output, x, nllRows, dOutput);
    }

    /// <summary>GPU: one group per row; its threads stride along the row, then sum their parts in a fixed tree.</summary>
    public static void RowsGpu(LikelihoodProblem p,
        ArrayView<float> output, ArrayView<float> x, ArrayView<double> nllRows, ArrayView<float> dOutput)
    {
        int b = Grid.IdxX;
        float precision = DeviceMath.Exp(-p.LogVar);
        double part = 0;
        for (int i = b * p.Dim + Group.IdxX; i < (b + 1) * p.Dim; i += Group.DimX)
            part += Element(p, precision, i, i + p.XShift(b), output, x, dOutput);
        double nll = GroupReductions.Sum(part, SharedScratch.ForReduction());
        if (Group.IdxX == 0) nllRows[b] = Finish(p, nll);
    }

    /// <summary>Output element i's share of −log p against x element <paramref name="xIndex"/> (Gaussian: the squared residual only) and, if asked, its gradient.</summary>
    internal static double Element(LikelihoodProblem p, float precision, int i, int xIndex, ArrayView<float> output, ArrayView<float> x, ArrayView<float> dOutput)
    {
        float o = output[i], xi = x[xIndex];
        if (p.Bernoulli != 0)
        {
            // One exponential serves both: e = e^(−|l|) gives softplus(l) = max(l, 0) + log1p(e) and σ(l).
            float e = DeviceMath.Exp(-(o < 0f ? -o : o));
            if (p.GradScale != 0f)
                dOutput[i] = ((o >= 0f ? 1f : e) / (1f + e) - xi) * p.GradScale;
            return (o > 0f ? o : 0f) + DeviceMath.Log1p(e) - xi * o;
        }
        float r = o - xi;
        if (p.GradScale != 0f)
            dOutput[i] = r * precision * p.GradScale;
        return (double)r * r;
    }

    internal static double Finish(LikelihoodProblem p, double sum) =>
        p.Bernoulli != 0 ? sum : 0.5 * (sum * DeviceMath.Exp(-(double)p.LogVar) + p.Dim * (p.LogVar + Log2Pi));
}
