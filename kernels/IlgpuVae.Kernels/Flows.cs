using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>One step of an inverse autoregressive flow over a batch of codes.</summary>
public struct FlowStepProblem
{
    /// <summary>Codes z [B, k]; the step's MADE gives [m | s] [B, 2k].</summary>
    public int Latent;
    /// <summary>1 for the flow's last step, which also adds the prior's term ½z_T² to the KL elements.</summary>
    public int Last;
    /// <summary>The weight of the KL estimate over the batch mean, (1 − α)/B, for the backward.</summary>
    public float KlGradScale;
    /// <summary>The B·k elements among the launch's threads.</summary>
    public Partition Items;
}

/// <summary>
/// The element-wise part of an inverse autoregressive flow step (Kingma et al., 2016), after its MADE has made
/// [m | s] from z_t and the context: σ = sigmoid(s), z_{t+1} = σ ⊙ z_t + (1 − σ) ⊙ m, log|det| = Σ log σ.
/// The KL elements hold the single-sample estimate log q(z_T|x) − log p(z_T) per code element (the Gaussian's part
/// from <see cref="Reparameterize.ForwardGpu"/>): each step adds −log σ = softplus(−s), the last also ½z_T².
/// Backward, for the KL weight w and the incoming ∂L/∂z_{t+1} (plus w·z_T at the last step):
///   ∂L/∂z_t (direct) = g·σ,  ∂L/∂m = g·(1 − σ),  ∂L/∂s = g·(z_t − m)·σ(1 − σ) − w·(1 − σ);
/// the MADE's own backward adds its path to ∂L/∂z_t.
/// </summary>
public static class Flows
{
    /// <summary>z_{t+1} [B, k] into next from z_t and [m | s]; the step's −log σ (and at the last step ½z_T²) added into klTerms.</summary>
    public static void StepForward(Index1D thread, FlowStepProblem p,
        ArrayView<float> z, ArrayView<float> ms, ArrayView<float> next, ArrayView<double> klTerms)
    {
        var items = p.Items;
        int k = p.Latent;
        foreach (int i in items.Of(thread))
        {
            int m = i + i / k * k, s = m + k;
            float sigma = Activations.Sigmoid(ms[s]);
            float value = sigma * z[i] + (1f - sigma) * ms[m];
            next[i] = value;
            double kl = klTerms[i] + Activations.Softplus(-ms[s]);
            klTerms[i] = p.Last != 0 ? kl + 0.5 * value * value : kl;
        }
    }

    /// <summary>dMs [B, 2k] and the direct part of dz [B, k] from dNext; next is the step's output (read at the last step).</summary>
    public static void StepBackward(Index1D thread, FlowStepProblem p,
        ArrayView<float> z, ArrayView<float> ms, ArrayView<float> next, ArrayView<float> dNext, ArrayView<float> dMs, ArrayView<float> dz)
    {
        var items = p.Items;
        int k = p.Latent;
        float w = p.KlGradScale;
        foreach (int i in items.Of(thread))
        {
            int m = i + i / k * k, s = m + k;
            float sigma = Activations.Sigmoid(ms[s]), rest = 1f - sigma;
            float g = p.Last != 0 ? dNext[i] + w * next[i] : dNext[i];
            dz[i] = g * sigma;
            dMs[m] = g * rest;
            dMs[s] = g * (z[i] - ms[m]) * sigma * rest - w * rest;
        }
    }

    /// <summary>values[i] = 0 where mask[i] is 0 (+0, never −0): a masked layer's weights start, and stay, at zero.</summary>
    public static void ApplyMask(Index1D thread, Partition items, ArrayView<float> mask, ArrayView<float> values)
    {
        foreach (int i in items.Of(thread))
            if (mask[i] == 0f) values[i] = 0f;
    }

    /// <summary>
    /// One pixel of autoregressive sampling from a MADE decoder's output [B, d]: x[b, pixel] = a Bernoulli draw
    /// (draw b of <paramref name="key"/>) with probability sigmoid(logit), or the Gaussian's mean; the next pass of
    /// the decoder then sees it.
    /// </summary>
    public static void SamplePixel(Index1D thread, Partition rows, int dim, int pixel, int bernoulli, ulong key,
        ArrayView<float> output, ArrayView<float> x)
    {
        foreach (int b in rows.Of(thread))
        {
            int i = b * dim + pixel;
            x[i] = bernoulli == 0 ? output[i] : CounterRng.Uniform(key, b) < Activations.Sigmoid(output[i]) ? 1f : 0f;
        }
    }
}

/// <summary>
/// Inverting a flow, for log q(z|x_j) at a code z that another image's posterior drew (the mutual information's
/// aggregate posterior): rows are (code, image) pairs, so one launch covers many pairs.
/// Step t is inverted dimension by dimension: z_t = (z_{t+1} − (1 − σ) ⊙ m) / σ with m, σ from the step's MADE at
/// the current z_t. Each pass makes exact every dimension whose MADE degree it has reached (their m and σ read
/// only lower degrees, exact already), so k passes recover z_t, and the last pass's σ are z_t's own.
/// </summary>
public static class FlowInversion
{
    /// <summary>
    /// rows[r] = table[row of pair firstPair + r] for pairs q = i·n + j: row i = q / n (the code), or with
    /// <paramref name="cycle"/> row j = q mod n (the image); rows are <paramref name="width"/> wide.
    /// </summary>
    public static void PairRows(Index1D thread, Partition items, int firstPair, int n, int width, int cycle,
        ArrayView<float> table, ArrayView<float> rows)
    {
        foreach (int e in items.Of(thread))
        {
            int r = e / width, pair = firstPair + r;
            int source = cycle != 0 ? pair % n : pair / n;
            rows[e] = table[source * width + e - r * width];
        }
    }

    /// <summary>
    /// The largest |z| an inversion keeps. Another image's flow, inverted at a code far from its own, divides by
    /// σ near 0 (or exactly 0 once s underflows): z grows past float's range, and the next MADE pass multiplies
    /// it by a masked weight, 0·∞ = NaN, which spreads to every dimension. Held at ±Bound instead, the pair's
    /// log N(z₀; μ, σ²) is about −Bound²/(2σ²) (its log-determinant grows only linearly in z), so q(z_i|x_j)
    /// stays what it is, nothing next to the mixture's other terms; a plausible pair never comes near it.
    /// </summary>
    public const float Bound = 1e12f;

    /// <summary>One pass of a step's inversion: z = (next − (1 − σ(s)) ⊙ m) / σ(s), [m | s] from the MADE at the current z, held within ±<see cref="Bound"/>.</summary>
    public static void Pass(Index1D thread, Partition items, int latent, ArrayView<float> next, ArrayView<float> ms, ArrayView<float> z)
    {
        foreach (int i in items.Of(thread))
        {
            int m = i + i / latent * latent;
            float sigma = Activations.Sigmoid(ms[m + latent]);
            float value = (next[i] - (1f - sigma) * ms[m]) / sigma;
            // NaN (0/0) fails both tests and is held at +Bound.
            z[i] = value <= Bound && value >= -Bound ? value : value < 0f ? -Bound : Bound;
        }
    }

    /// <summary>
    /// logQ[r] = log N(z₀; μ, σ²) of the row's image (heads [rows, 2k]) − Σ_t Σ_j log σ_t,j, the second sum added
    /// step by step into <paramref name="logQ"/> by <see cref="AddLogDeterminant"/> with the opposite sign.
    /// </summary>
    public static void AddGaussian(Index1D row, int latent, ArrayView<float> z0, ArrayView<float> heads, ArrayView<double> logQ) =>
        logQ[row] += Estimators.LogPosterior(row, row, latent, heads, z0);

    /// <summary>logQ[r] −= Σ_j log σ(s_j) = Σ_j softplus(−s_j) of the row's inverted step ([m | s] rows), starting from 0 with <paramref name="first"/>.</summary>
    public static void AddLogDeterminant(Index1D row, int latent, int first, ArrayView<float> ms, ArrayView<double> logQ)
    {
        double sum = 0;
        for (int j = 0; j < latent; j++)
            sum += Activations.Softplus(-ms[row * 2 * latent + latent + j]);
        logQ[row] = first != 0 ? sum : logQ[row] + sum;
    }
}
