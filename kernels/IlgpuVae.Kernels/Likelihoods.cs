using ILGPU;
using ILGPU.Algorithms;

namespace IlgpuVae.Kernels;

/// <summary>
/// The reconstruction term −log p(x|z) per batch row (accumulated in double) and its gradient with respect
/// to the decoder's output, in one pass over the row. One thread per row; x and out are [B, d].
///   Bernoulli with logits l: −log p = Σᵢ softplus(lᵢ) − xᵢ·lᵢ,  ∂/∂l = σ(l) − x  (stable for |l| ≫ 1).
///   Gaussian with mean m and fixed log-variance s: −log p = ½ Σᵢ [(xᵢ − mᵢ)²·e^(−s) + s + log 2π],
///   ∂/∂m = (m − x)·e^(−s).
/// The gradient is scaled by <paramref name="gradScale"/> (1/B for the batch mean); 0 skips writing it.
/// </summary>
public static class Likelihoods
{
    const double Log2Pi = 1.8378770664093453;

    public static void Bernoulli(Index1D b, int dim, float gradScale,
        ArrayView<float> logits, ArrayView<float> x, ArrayView<double> nllRows, ArrayView<float> dLogits)
    {
        double nll = 0;
        for (int i = b * dim; i < (b + 1) * dim; i++)
        {
            float l = logits[i], xi = x[i];
            nll += Activations.Softplus(l) - xi * l;
            if (gradScale != 0f)
                dLogits[i] = (Activations.Sigmoid(l) - xi) * gradScale;
        }
        nllRows[b] = nll;
    }

    public static void Gaussian(Index1D b, int dim, float logVar, float gradScale,
        ArrayView<float> mean, ArrayView<float> x, ArrayView<double> nllRows, ArrayView<float> dMean)
    {
        float precision = XMath.Exp(-logVar);
        double squares = 0;
        for (int i = b * dim; i < (b + 1) * dim; i++)
        {
            float r = mean[i] - x[i];
            squares += r * r;
            if (gradScale != 0f)
                dMean[i] = r * precision * gradScale;
        }
        nllRows[b] = 0.5 * (squares * precision + dim * (logVar + Log2Pi));
    }
}
