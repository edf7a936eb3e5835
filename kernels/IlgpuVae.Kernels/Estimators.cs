using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>The shape of one chunk of importance samples: <see cref="Images"/> images × <see cref="Samples"/> draws each.</summary>
public struct ImportanceProblem
{
    /// <summary>Images in the chunk, draws per image in the chunk, and latent dimensions.</summary>
    public int Images, Samples, Latent;
    /// <summary>K, the draws per image in all, and where this chunk's draws start among them.</summary>
    public int TotalSamples, FirstSample;
    /// <summary>Rows per image in the batch (≥ Samples): draw s of image b sits in row b·RowStride + s.</summary>
    public int RowStride;
    /// <summary>The data-set index of the chunk's first image, so every draw has its own counter whatever the chunking.</summary>
    public int FirstImage;
    /// <summary>The counter-based generator's key of the draws.</summary>
    public ulong Key;
    /// <summary>The chunk's rows (Images·RowStride) among the launch's threads.</summary>
    public Partition Rows;
}

/// <summary>
/// The estimators of the evaluation, each on the device:
///   importance-weighted log-likelihood (IWAE): log p(x) ≈ logsumexp_k[log p(x|z_k) + log p(z_k) − log q(z_k|x)] − log K;
///   the mutual information I_q(x; z) = E_x[KL(q(z|x) ‖ p(z))] − KL(q(z) ‖ p(z)), with q(z) the mixture of the
///   evaluated set's posteriors (as in He et al., "Lagging inference networks", 2019);
///   per-dimension posterior statistics for the active units and the per-dimension KL.
/// heads [n, 2k] holds μ and log σ² per row, as the encoder writes them. The reductions exist twice: a thread
/// per image, code or dimension on the CPU accelerator, a group per image, code or dimension on GPUs
/// (<c>…Grouped</c>, a strided share per thread and a fixed tree); both give the same estimates.
/// </summary>
public static class Estimators
{
    internal const double HalfLog2Pi = 0.91893853320467274;

    /// <summary>
    /// Row r = (image b, draw s) of a chunk: z = μ_b + σ_b·ε with ε keyed by (image, draw), and
    /// log p(z) − log q(z|x) = Σⱼ ½(ε² − z² + log σ²) (the log 2π terms cancel). Whole rows per thread (p.Rows); rows past
    /// a short last chunk's draws are left as they are.
    /// </summary>
    public static void ImportanceSamplesGpu(Index1D thread, ImportanceProblem p,
        ArrayView<float> heads, ArrayView<float> z, ArrayView<double> logRatio)
    {
        foreach (int r in p.Rows.Of(thread))
            ImportanceSample(r, p, heads, z, logRatio);
    }

    /// <summary>CPU: <see cref="ImportanceSamplesGpu"/> over each of the thread's runs of rows as vector code (<see cref="ImportanceRows"/>).</summary>
    public static void ImportanceSamplesCpu(Index1D thread, ImportanceProblem p,
        ArrayView<float> heads, ArrayView<float> z, ArrayView<double> logRatio)
    {
        foreach (var run in p.Rows.RunsOf(thread))
            ImportanceRows.Rows(p, run.From, run.To, heads, z, logRatio);
    }

    static void ImportanceSample(int r, ImportanceProblem p, ArrayView<float> heads, ArrayView<float> z, ArrayView<double> logRatio)
    {
        int b = r / p.RowStride, s = r - b * p.RowStride, k = p.Latent;
        if (s >= p.Samples) return;
        long counter = ((long)(p.FirstImage + b) * p.TotalSamples + p.FirstSample + s) * k;
        double ratio = 0;
        for (int j = 0; j < k; j++)
        {
            float mu = heads[b * 2 * k + j], logVar = heads[b * 2 * k + k + j];
            float eps = CounterRng.Normal(p.Key, counter + j);
            float zj = mu + DeviceMath.Exp(0.5f * logVar) * eps;
            z[r * k + j] = zj;
            ratio += 0.5 * ((double)eps * eps - (double)zj * zj + logVar);
        }
        logRatio[r] = ratio;
    }

    /// <summary>logW[b, first + s] = −nll[r] + logRatio[r] for each row r = (b, s) of the chunk.</summary>
    public static void ImportanceWeights(Index1D thread, ImportanceProblem p,
        ArrayView<double> nllRows, ArrayView<double> logRatio, ArrayView<double> logWeights)
    {
        foreach (int r in p.Rows.Of(thread))
        {
            int b = r / p.RowStride, s = r - b * p.RowStride;
            if (s < p.Samples) logWeights[(long)b * p.TotalSamples + p.FirstSample + s] = -nllRows[r] + logRatio[r];
        }
    }

    /// <summary>
    /// CPU: per image b, iwae[b] = logsumexp_k(logW[b, k]) − log K, computed as max + log Σ exp(w − max) so no
    /// term overflows; elbo[b] = mean_k logW[b, k], the single-sample ELBO averaged over the same draws. Where
    /// <paramref name="variance"/> is given, the delta method's variance of iwae[b]: Var(w)/(K·w̄²) = Σ_k w̃_k² − 1/K with
    /// w̃ the normalized weights (1/ESS − 1/K).
    /// </summary>
    public static void LogMeanExpCpu(Index1D b, int samples,
        ArrayView<double> logWeights, ArrayView<double> iwae, ArrayView<double> elbo, ArrayView<double> variance)
    {
        long row = (long)(int)b * samples;
        double max = double.NegativeInfinity, mean = 0;
        for (int s = 0; s < samples; s++)
        {
            double w = logWeights[row + s];
            max = w > max ? w : max;
            mean += w;
        }
        double sum = 0, squares = 0;
        bool spread = variance.Length > 0;
        for (int s = 0; s < samples; s++)
        {
            double w = DeviceMath.Exp(logWeights[row + s] - max);
            sum += w;
            if (spread) squares += w * w;
        }
        iwae[b] = max + DeviceMath.Log(sum) - DeviceMath.Log((double)samples);
        elbo[b] = mean / samples;
        if (spread) variance[b] = Spread(squares, sum, samples);
    }

    /// <summary>Σ w̃² − 1/K from Σw² and Σw, at least 0 (rounding can take an even spread of weights just below).</summary>
    static double Spread(double squares, double sum, int samples)
    {
        double v = squares / (sum * sum) - 1.0 / samples;
        return v > 0 ? v : 0;
    }

    /// <summary>GPU: <see cref="LogMeanExpCpu"/> with a group per image.</summary>
    public static void LogMeanExpGpu(int samples,
        ArrayView<double> logWeights, ArrayView<double> iwae, ArrayView<double> elbo, ArrayView<double> variance)
    {
        int b = Grid.IdxX;
        long row = (long)b * samples;
        var scratch = SharedScratch.ForReduction();
        double max = double.NegativeInfinity, mean = 0;
        for (int s = Group.IdxX; s < samples; s += Group.DimX)
        {
            double w = logWeights[row + s];
            max = w > max ? w : max;
            mean += w;
        }
        max = GroupReductions.Max(max, scratch);
        mean = GroupReductions.Sum(mean, scratch);
        double sum = 0, squares = 0;
        bool spread = variance.Length > 0;
        for (int s = Group.IdxX; s < samples; s += Group.DimX)
        {
            double w = DeviceMath.Exp(logWeights[row + s] - max);
            sum += w;
            if (spread) squares += w * w;
        }
        sum = GroupReductions.Sum(sum, scratch);
        if (spread) squares = GroupReductions.Sum(squares, scratch);
        if (Group.IdxX != 0) return;
        iwae[b] = max + DeviceMath.Log(sum) - DeviceMath.Log((double)samples);
        elbo[b] = mean / samples;
        if (spread) variance[b] = Spread(squares, sum, samples);
    }

    /// <summary>
    /// CPU: for codes thread, thread + threads, … (code i one draw zᵢ of q(z|xᵢ)) its term of the mutual information,
    /// log q(zᵢ|xᵢ) − log[(1/N) Σₙ q(zᵢ|xₙ)], as vector code (<see cref="MutualInformationRows"/>). The first part is one
    /// of the sum's N terms, so each term, and their mean, is at most log N: the Monte Carlo estimate of
    /// E[KL(q(z|x) ‖ p)] − KL(q(z) ‖ p) whose two parts share the sample.
    /// </summary>
    public static void MutualInformationCpu(Index1D thread, int count, int latent, int threads,
        ArrayView<float> heads, ArrayView<float> z, ArrayView<double> terms) =>
        MutualInformationRows.Terms(count, latent, thread, threads, heads, z, terms);

    /// <summary>GPU: <see cref="MutualInformationCpu"/>'s terms with a group per code, the mixture's density by a running log-sum-exp per thread.</summary>
    public static void MutualInformationGpu(int count, int latent,
        ArrayView<float> heads, ArrayView<float> z, ArrayView<double> terms)
    {
        int i = Grid.IdxX;
        var scratch = SharedScratch.ForReduction();
        double max = double.NegativeInfinity, sum = 0;
        for (int n = Group.IdxX; n < count; n += Group.DimX)
            AddToLogSumExp(LogPosterior(i, n, latent, heads, z), ref max, ref sum);
        // Each thread's sum is relative to its own maximum: bring them to the group's before adding.
        double groupMax = GroupReductions.Max(max, scratch);
        sum = GroupReductions.Sum(sum > 0 ? sum * DeviceMath.Exp(max - groupMax) : 0.0, scratch);
        if (Group.IdxX == 0)
            terms[i] = LogPosterior(i, i, latent, heads, z) - (groupMax + DeviceMath.Log(sum) - DeviceMath.Log((double)count));
    }

    /// <summary>log q(zᵢ | xₙ) = Σⱼ −½(log 2π + log σ²ₙⱼ + (zᵢⱼ − μₙⱼ)²/σ²ₙⱼ).</summary>
    internal static double LogPosterior(int i, int n, int k, ArrayView<float> heads, ArrayView<float> z)
    {
        double log = 0;
        for (int j = 0; j < k; j++)
        {
            double mu = heads[n * 2 * k + j], logVar = heads[n * 2 * k + k + j];
            double d = z[i * k + j] - mu;
            log -= HalfLog2Pi + 0.5 * (logVar + d * d * DeviceMath.Exp(-logVar));
        }
        return log;
    }

    /// <summary>A running log-sum-exp as (max, Σ exp(· − max)): the sum is rescaled whenever a larger term arrives.</summary>
    static void AddToLogSumExp(double log, ref double max, ref double sum)
    {
        if (log > max)
        {
            sum = sum * DeviceMath.Exp(max - log) + 1.0;
            max = log;
        }
        else
            sum += DeviceMath.Exp(log - max);
    }

    /// <summary>
    /// CPU: per latent dimension j over the posteriors, the variance of their means E_q[zⱼ|x] (whose size says
    /// whether the unit is active) and the mean KL element of that dimension (<see cref="DimensionProblem"/>).
    /// Two passes in double; one thread per dimension.
    /// </summary>
    public static void DimensionStatisticsCpu(Index1D j, DimensionProblem p,
        ArrayView<float> sums, ArrayView<float> squares, ArrayView<double> kl, ArrayView<double> muVariance, ArrayView<double> klMean)
    {
        double mean = 0, klSum = 0, within = 0;
        for (int n = 0; n < p.Count; n++)
        {
            mean += Mean(p, n, j, sums);
            klSum += kl[n * p.Latent + j];
            within += WithinVariance(p, n, j, sums, squares);
        }
        mean /= p.Count;
        double variance = 0;
        for (int n = 0; n < p.Count; n++)
        {
            double d = Mean(p, n, j, sums) - mean;
            variance += d * d;
        }
        Finish(p, j, variance, within, klSum, muVariance, klMean);
    }

    /// <summary>GPU: <see cref="DimensionStatisticsCpu"/> with a group per dimension.</summary>
    public static void DimensionStatisticsGpu(DimensionProblem p,
        ArrayView<float> sums, ArrayView<float> squares, ArrayView<double> kl, ArrayView<double> muVariance, ArrayView<double> klMean)
    {
        int j = Grid.IdxX;
        var scratch = SharedScratch.ForReduction();
        double mean = 0, klSum = 0, within = 0;
        for (int n = Group.IdxX; n < p.Count; n += Group.DimX)
        {
            mean += Mean(p, n, j, sums);
            klSum += kl[n * p.Latent + j];
            within += WithinVariance(p, n, j, sums, squares);
        }
        mean = GroupReductions.Sum(mean, scratch) / p.Count;
        klSum = GroupReductions.Sum(klSum, scratch);
        within = GroupReductions.Sum(within, scratch);
        double variance = 0;
        for (int n = Group.IdxX; n < p.Count; n += Group.DimX)
        {
            double d = Mean(p, n, j, sums) - mean;
            variance += d * d;
        }
        variance = GroupReductions.Sum(variance, scratch);
        if (Group.IdxX == 0) Finish(p, j, variance, within, klSum, muVariance, klMean);
    }

    /// <summary>Posterior n's mean of dimension j: its μ, or the mean of its draws.</summary>
    static double Mean(DimensionProblem p, int n, int j, ArrayView<float> sums) => (double)sums[n * p.Stride + j] / p.Draws;

    /// <summary>The unbiased variance of posterior n's draws of dimension j (0 for a single draw).</summary>
    static double WithinVariance(DimensionProblem p, int n, int j, ArrayView<float> sums, ArrayView<float> squares)
    {
        if (p.Draws < 2) return 0.0;
        double m = Mean(p, n, j, sums);
        return ((double)squares[n * p.Latent + j] - p.Draws * m * m) / (p.Draws - 1);
    }

    /// <summary>
    /// The variance of the means over the posteriors, less the share their draws' noise adds to it (the mean
    /// within-posterior variance over the draws), and the KL elements' mean over posteriors and draws.
    /// </summary>
    static void Finish(DimensionProblem p, int j, double variance, double within, double klSum,
        ArrayView<double> muVariance, ArrayView<double> klMean)
    {
        double between = p.Count > 1 ? variance / (p.Count - 1) : 0.0;
        muVariance[j] = p.Draws > 1 ? between - within / p.Count / p.Draws : between;
        klMean[j] = klSum / ((double)p.Count * p.Draws);
    }

    /// <summary>
    /// Draw <paramref name="draw"/> of a flow posterior's codes added into the running sums over draws, element-wise
    /// over [rows, k]: z, z² and the KL elements (the first draw overwrites them).
    /// </summary>
    public static void AccumulateDraws(Index1D thread, Partition items, int draw,
        ArrayView<float> z, ArrayView<double> klTerms, ArrayView<float> sums, ArrayView<float> squares, ArrayView<double> kl)
    {
        foreach (int i in items.Of(thread))
        {
            float v = z[i];
            sums[i] = draw == 0 ? v : sums[i] + v;
            squares[i] = draw == 0 ? v * v : squares[i] + v * v;
            kl[i] = draw == 0 ? klTerms[i] : kl[i] + klTerms[i];
        }
    }

    /// <summary>
    /// log p(z) − log q(z|x) per row from the KL elements a flow posterior's encode left [rows, k] (their row sum is
    /// the single-sample log q − log p): the importance weight's prior-over-posterior part for a flow.
    /// </summary>
    public static void FlowLogRatio(Index1D row, int latent, ArrayView<double> klTerms, ArrayView<double> logRatio)
    {
        double sum = 0;
        for (int j = 0; j < latent; j++) sum += klTerms[row * latent + j];
        logRatio[row] = -sum;
    }
}

/// <summary>
/// Per-dimension statistics over <see cref="Count"/> posteriors of <see cref="Latent"/> dimensions. Means:
/// sums[n·Stride + j] of <see cref="Draws"/> draws — the Gaussian's μ from heads (Stride 2k, one "draw"), or a
/// flow's codes summed over Monte Carlo draws (Stride k) with their squares' sums [n, k]; KL elements [n, k]
/// summed over the draws.
/// </summary>
public struct DimensionProblem
{
    /// <summary>Posteriors, their dimensions, the row stride of the sums, and the draws summed into each.</summary>
    public int Count, Latent, Stride, Draws;
}
