using ILGPU;
using ILGPU.Algorithms;

namespace IlgpuVae.Kernels;

/// <summary>The shape of one chunk of importance samples: <see cref="Images"/> images × <see cref="Samples"/> draws each.</summary>
public struct ImportanceProblem
{
    public int Images, Samples, Latent;
    /// <summary>K, the draws per image in all, and where this chunk's draws start among them.</summary>
    public int TotalSamples, FirstSample;
    /// <summary>Rows per image in the batch (≥ Samples): draw s of image b sits in row b·RowStride + s.</summary>
    public int RowStride;
    /// <summary>The data-set index of the chunk's first image, so every draw has its own counter whatever the chunking.</summary>
    public int FirstImage;
    public ulong Key;
}

/// <summary>
/// The estimators of the evaluation, each on the device:
///   importance-weighted log-likelihood (IWAE): log p(x) ≈ logsumexp_k[log p(x|z_k) + log p(z_k) − log q(z_k|x)] − log K;
///   the mutual information I_q(x; z) = E_x[KL(q(z|x) ‖ p(z))] − KL(q(z) ‖ p(z)), with q(z) the mixture of the
///   evaluated set's posteriors (the estimator of He et al., "Lagging inference networks", 2019);
///   per-dimension posterior statistics for the active units and the per-dimension KL.
/// heads [n, 2k] holds μ and log σ² per row, as the encoder writes them.
/// </summary>
public static class Estimators
{
    const double HalfLog2Pi = 0.91893853320467274;

    /// <summary>
    /// Row r = (image b, draw s) of a chunk: z = μ_b + σ_b·ε with ε keyed by (image, draw), and
    /// log p(z) − log q(z|x) = Σⱼ ½(ε² − z² + log σ²) (the log 2π terms cancel). One thread per row; rows past
    /// a short last chunk's draws are left as they are.
    /// </summary>
    public static void ImportanceSamples(Index1D r, ImportanceProblem p,
        ArrayView<float> heads, ArrayView<float> z, ArrayView<double> logRatio)
    {
        int b = r / p.RowStride, s = r - b * p.RowStride, k = p.Latent;
        if (s >= p.Samples) return;
        long counter = ((long)(p.FirstImage + b) * p.TotalSamples + p.FirstSample + s) * k;
        double ratio = 0;
        for (int j = 0; j < k; j++)
        {
            float mu = heads[b * 2 * k + j], logVar = heads[b * 2 * k + k + j];
            float eps = CounterRng.Normal(p.Key, counter + j);
            float zj = mu + XMath.Exp(0.5f * logVar) * eps;
            z[r * k + j] = zj;
            ratio += 0.5 * ((double)eps * eps - (double)zj * zj + logVar);
        }
        logRatio[r] = ratio;
    }

    /// <summary>logW[b, first + s] = −nll[r] + logRatio[r] for row r = (b, s) of the chunk.</summary>
    public static void ImportanceWeights(Index1D r, ImportanceProblem p,
        ArrayView<double> nllRows, ArrayView<double> logRatio, ArrayView<double> logWeights)
    {
        int b = r / p.RowStride, s = r - b * p.RowStride;
        if (s >= p.Samples) return;
        logWeights[(long)b * p.TotalSamples + p.FirstSample + s] = -nllRows[r] + logRatio[r];
    }

    /// <summary>
    /// Per image b: iwae[b] = logsumexp_k(logW[b, k]) − log K, computed as max + log Σ exp(w − max) so no term
    /// overflows; elbo[b] = mean_k logW[b, k], the single-sample ELBO averaged over the same draws.
    /// </summary>
    public static void LogMeanExp(Index1D b, int samples,
        ArrayView<double> logWeights, ArrayView<double> iwae, ArrayView<double> elbo)
    {
        long row = (long)(int)b * samples;
        double max = double.NegativeInfinity, mean = 0;
        for (int s = 0; s < samples; s++)
        {
            double w = logWeights[row + s];
            max = XMath.Max(max, w);
            mean += w;
        }
        double sum = 0;
        for (int s = 0; s < samples; s++)
            sum += XMath.Exp(logWeights[row + s] - max);
        iwae[b] = max + XMath.Log(sum) - XMath.Log((double)samples);
        elbo[b] = mean / samples;
    }

    /// <summary>
    /// For code i (one draw of q(z|x_i)): its share of the mutual information,
    /// E_q[log q(z|x_i)] − log q(z_i) with E_q[log q(z|x)] = −½ Σⱼ (log 2π + 1 + log σ²ⱼ) and
    /// log q(z_i) = logsumexp_n log N(z_i; μ_n, σ_n²) − log N over all N posteriors, by a running log-sum-exp.
    /// One thread per code.
    /// </summary>
    public static void MutualInformationShares(Index1D i, int count, int latent,
        ArrayView<float> heads, ArrayView<float> z, ArrayView<double> shares)
    {
        int k = latent;
        double negEntropy = 0;
        for (int j = 0; j < k; j++)
            negEntropy -= HalfLog2Pi + 0.5 * (1.0 + heads[i * 2 * k + k + j]);
        double max = double.NegativeInfinity, sum = 0;
        for (int n = 0; n < count; n++)
        {
            double log = 0;
            for (int j = 0; j < k; j++)
            {
                double mu = heads[n * 2 * k + j], logVar = heads[n * 2 * k + k + j];
                double d = z[i * k + j] - mu;
                log -= HalfLog2Pi + 0.5 * (logVar + d * d * XMath.Exp(-logVar));
            }
            // Running log-sum-exp: rescale the sum whenever a larger term arrives.
            if (log > max)
            {
                sum = sum * XMath.Exp(max - log) + 1.0;
                max = log;
            }
            else
                sum += XMath.Exp(log - max);
        }
        shares[i] = negEntropy - (max + XMath.Log(sum) - XMath.Log((double)count));
    }

    /// <summary>
    /// Per latent dimension j over n posteriors: the variance of μⱼ (Cov_x E_q[zⱼ|x], whose size says whether the
    /// unit is active) and the mean KL of that dimension. Two passes in double; one thread per dimension.
    /// </summary>
    public static void DimensionStatistics(Index1D j, int count, int latent,
        ArrayView<float> heads, ArrayView<double> muVariance, ArrayView<double> klMean)
    {
        int k = latent;
        double mean = 0, kl = 0;
        for (int n = 0; n < count; n++)
        {
            float mu = heads[n * 2 * k + j];
            mean += mu;
            kl += Divergences.GaussianKl(mu, heads[n * 2 * k + k + j]);
        }
        mean /= count;
        double variance = 0;
        for (int n = 0; n < count; n++)
        {
            double d = heads[n * 2 * k + j] - mean;
            variance += d * d;
        }
        muVariance[j] = count > 1 ? variance / (count - 1) : 0.0;
        klMean[j] = kl / count;
    }
}
