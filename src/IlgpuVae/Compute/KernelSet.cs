using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Kernels;

namespace IlgpuVae.Compute;

/// <summary>
/// Every kernel of <c>IlgpuVae.Kernels</c>, loaded once on one accelerator, behind host methods that check
/// their arguments (a kernel cannot throw) and choose the launch size. Parameter order follows the kernels:
/// sizes and scalars, inputs, outputs.
/// </summary>
public sealed class KernelSet
{
    readonly ComputeDevice device;
    readonly Action<Index1D, GemmProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> denseForward;
    readonly Action<Index1D, GemmProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> denseBackwardInput;
    readonly Action<Index1D, GemmProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>> denseBackwardWeight;
    readonly Action<Index1D, Shares, int, ArrayView<float>, ArrayView<float>> denseBackwardBias;
    // The vector kernels (SimdGemm) run the dense products on the CPU accelerator; null on GPUs, where the
    // portable tiles run (and on the CPU when the portable kernels are asked for).
    readonly Action<Index1D, GemmProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>? denseForwardSimd;
    readonly Action<Index1D, GemmProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>? denseBackwardInputSimd;
    readonly Action<Index1D, GemmProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>>? denseBackwardWeightSimd;
    readonly Action<Index1D, Shares, ulong, ArrayView<float>> fillNormal;
    readonly Action<Index1D, Shares, ulong, float, float, ArrayView<float>> fillUniform;
    readonly Action<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>> reparameterize;
    readonly Action<Index1D, Shares, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>> reparameterizeBackward;
    readonly Action<Index1D, int, float, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>> bernoulli;
    readonly Action<Index1D, int, float, float, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>> gaussian;
    readonly Action<Index1D, MmdProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>> mmdRows;
    readonly Action<Index1D, LossWeights, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>> lossTerms;
    readonly Action<Index1D, AdamStep, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>> adam;
    readonly Action<Index1D, SgdStep, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>> sgd;
    readonly Action<Index1D, GatherProblem, ArrayView<float>, ArrayView<int>, ArrayView<float>> gather;
    readonly Action<Index1D, ImportanceProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>> importanceSamples;
    readonly Action<Index1D, ImportanceProblem, ArrayView<double>, ArrayView<double>, ArrayView<double>> importanceWeights;
    readonly Action<Index1D, int, ArrayView<double>, ArrayView<double>, ArrayView<double>> logMeanExp;
    readonly Action<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<double>> mutualInformation;
    readonly Action<Index1D, int, int, ArrayView<float>, ArrayView<double>, ArrayView<double>> dimensionStatistics;

    internal KernelSet(ComputeDevice device)
    {
        this.device = device;
        var a = device.Accelerator;
        denseForward = a.LoadAutoGroupedStreamKernel<Index1D, GemmProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Dense.Forward);
        denseBackwardInput = a.LoadAutoGroupedStreamKernel<Index1D, GemmProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Dense.BackwardInput);
        denseBackwardWeight = a.LoadAutoGroupedStreamKernel<Index1D, GemmProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Dense.BackwardWeight);
        denseBackwardBias = a.LoadAutoGroupedStreamKernel<Index1D, Shares, int, ArrayView<float>, ArrayView<float>>(Dense.BackwardBias);
        if (device.UsesVectorProducts)
        {
            denseForwardSimd = a.LoadAutoGroupedStreamKernel<Index1D, GemmProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Dense.ForwardSimd);
            denseBackwardInputSimd = a.LoadAutoGroupedStreamKernel<Index1D, GemmProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Dense.BackwardInputSimd);
            denseBackwardWeightSimd = a.LoadAutoGroupedStreamKernel<Index1D, GemmProblem, ArrayView<float>, ArrayView<float>, ArrayView<float>>(Dense.BackwardWeightSimd);
        }
        fillNormal = a.LoadAutoGroupedStreamKernel<Index1D, Shares, ulong, ArrayView<float>>(CounterRng.FillNormal);
        fillUniform = a.LoadAutoGroupedStreamKernel<Index1D, Shares, ulong, float, float, ArrayView<float>>(CounterRng.FillUniform);
        reparameterize = a.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>>(IlgpuVae.Kernels.Reparameterize.Forward);
        reparameterizeBackward = a.LoadAutoGroupedStreamKernel<Index1D, Shares, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(IlgpuVae.Kernels.Reparameterize.Backward);
        bernoulli = a.LoadAutoGroupedStreamKernel<Index1D, int, float, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>>(Likelihoods.Bernoulli);
        gaussian = a.LoadAutoGroupedStreamKernel<Index1D, int, float, float, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>>(Likelihoods.Gaussian);
        mmdRows = a.LoadAutoGroupedStreamKernel<Index1D, MmdProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>, ArrayView<float>>(Divergences.MmdRows);
        lossTerms = a.LoadAutoGroupedStreamKernel<Index1D, LossWeights, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>>(Reductions.LossTerms);
        adam = a.LoadAutoGroupedStreamKernel<Index1D, AdamStep, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>(Optimizers.Adam);
        sgd = a.LoadAutoGroupedStreamKernel<Index1D, SgdStep, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>>(Optimizers.SgdMomentum);
        gather = a.LoadAutoGroupedStreamKernel<Index1D, GatherProblem, ArrayView<float>, ArrayView<int>, ArrayView<float>>(Batches.Gather);
        importanceSamples = a.LoadAutoGroupedStreamKernel<Index1D, ImportanceProblem, ArrayView<float>, ArrayView<float>, ArrayView<double>>(Estimators.ImportanceSamples);
        importanceWeights = a.LoadAutoGroupedStreamKernel<Index1D, ImportanceProblem, ArrayView<double>, ArrayView<double>, ArrayView<double>>(Estimators.ImportanceWeights);
        logMeanExp = a.LoadAutoGroupedStreamKernel<Index1D, int, ArrayView<double>, ArrayView<double>, ArrayView<double>>(Estimators.LogMeanExp);
        mutualInformation = a.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<float>, ArrayView<double>>(Estimators.MutualInformationShares);
        dimensionStatistics = a.LoadAutoGroupedStreamKernel<Index1D, int, int, ArrayView<float>, ArrayView<double>, ArrayView<double>>(Estimators.DimensionStatistics);
    }

    // ---- dense layers -----------------------------------------------------------------------------------

    /// <summary>y[B, out] = act(x[B, in]·W[out, in]ᵀ + b[out]).</summary>
    public void DenseForward(int batch, int inputs, int outputs, Activation activation,
        ArrayView<float> x, ArrayView<float> weight, ArrayView<float> bias, ArrayView<float> y)
    {
        Require(x, (long)batch * inputs, nameof(x)); Require(weight, (long)outputs * inputs, nameof(weight));
        Require(bias, outputs, nameof(bias)); Require(y, (long)batch * outputs, nameof(y));
        var p = WithThreads(Dense.ForwardProblem(batch, inputs, outputs, activation));
        (denseForwardSimd ?? denseForward)(p.Threads, p, x, weight, bias, y);
    }

    /// <summary>dPrevPre[B, in] = (dPre[B, out]·W) ⊙ act_prev'(x[B, in]).</summary>
    public void DenseBackwardInput(int batch, int inputs, int outputs, Activation previousActivation,
        ArrayView<float> dPre, ArrayView<float> weight, ArrayView<float> x, ArrayView<float> dPrevPre)
    {
        Require(dPre, (long)batch * outputs, nameof(dPre)); Require(weight, (long)outputs * inputs, nameof(weight));
        if (previousActivation != Activation.Identity) Require(x, (long)batch * inputs, nameof(x));
        Require(dPrevPre, (long)batch * inputs, nameof(dPrevPre));
        var p = WithThreads(Dense.BackwardInputProblem(batch, inputs, outputs, previousActivation));
        (denseBackwardInputSimd ?? denseBackwardInput)(p.Threads, p, dPre, weight, x, dPrevPre);
    }

    /// <summary>dW[out, in] = dPreᵀ·x and db[out] = Σ_b dPre.</summary>
    public void DenseBackwardParameters(int batch, int inputs, int outputs,
        ArrayView<float> dPre, ArrayView<float> x, ArrayView<float> dWeight, ArrayView<float> dBias)
    {
        Require(dPre, (long)batch * outputs, nameof(dPre)); Require(x, (long)batch * inputs, nameof(x));
        Require(dWeight, (long)outputs * inputs, nameof(dWeight)); Require(dBias, outputs, nameof(dBias));
        var p = WithThreads(Dense.BackwardWeightProblem(batch, inputs, outputs));
        (denseBackwardWeightSimd ?? denseBackwardWeight)(p.Threads, p, dPre, x, dWeight);
        var columns = device.Shares(outputs);
        denseBackwardBias(columns.Threads, columns, batch, dPre, dBias);
    }

    /// <summary>
    /// <paramref name="p"/> with its launch size: a band of rows per hardware thread for the vector kernels,
    /// enough 8×8 tiles per thread for the portable ones.
    /// </summary>
    GemmProblem WithThreads(GemmProblem p)
    {
        p.Threads = device.UsesVectorProducts ? SimdGemm.Threads(p, device.Accelerator.MaxNumThreads) : device.LaunchThreads(p.Tiles);
        return p;
    }

    // ---- random numbers ------------------------------------------------------------------------------------

    /// <summary>output[i] = draw i of N(0, 1) under <paramref name="key"/>.</summary>
    public void FillNormal(ulong key, ArrayView<float> output, int length)
    {
        Require(output, length, nameof(output));
        if (length == 0) return;
        var s = device.Shares(length);
        fillNormal(s.Threads, s, key, output);
    }

    /// <summary>output[i] = draw i of U(low, high) under <paramref name="key"/>.</summary>
    public void FillUniform(ulong key, float low, float high, ArrayView<float> output, int length)
    {
        Require(output, length, nameof(output));
        if (length == 0) return;
        var s = device.Shares(length);
        fillUniform(s.Threads, s, key, low, high, output);
    }

    // ---- reparameterization, likelihood, divergences ---------------------------------------------------

    /// <summary>z = μ + exp(½ log σ²)·ε and per-row KL, from heads [B, 2k].</summary>
    public void Reparameterize(int batch, int latent,
        ArrayView<float> heads, ArrayView<float> eps, ArrayView<float> z, ArrayView<double> klRows)
    {
        Require(heads, 2L * batch * latent, nameof(heads)); Require(eps, (long)batch * latent, nameof(eps));
        Require(z, (long)batch * latent, nameof(z)); Require(klRows, batch, nameof(klRows));
        reparameterize(batch, latent, heads, eps, z, klRows);
    }

    /// <summary>dHeads [B, 2k] from dz and the KL term's gradient weight (1 − α)/B.</summary>
    public void ReparameterizeBackward(int batch, int latent, float klGradScale,
        ArrayView<float> heads, ArrayView<float> eps, ArrayView<float> dz, ArrayView<float> dHeads)
    {
        Require(heads, 2L * batch * latent, nameof(heads)); Require(eps, (long)batch * latent, nameof(eps));
        Require(dz, (long)batch * latent, nameof(dz)); Require(dHeads, 2L * batch * latent, nameof(dHeads));
        var s = device.Shares(batch * latent);
        reparameterizeBackward(s.Threads, s, latent, klGradScale, heads, eps, dz, dHeads);
    }

    /// <summary>Per-row −log p(x|z) and, unless gradScale is 0, its gradient for the decoder output.</summary>
    public void Likelihood(Likelihood kind, float obsLogVar, int batch, int dim, float gradScale,
        ArrayView<float> output, ArrayView<float> x, ArrayView<double> nllRows, ArrayView<float> dOutput)
    {
        Require(output, (long)batch * dim, nameof(output)); Require(x, (long)batch * dim, nameof(x));
        Require(nllRows, batch, nameof(nllRows));
        if (gradScale != 0f) Require(dOutput, (long)batch * dim, nameof(dOutput));
        if (kind == IlgpuVae.Likelihood.Bernoulli)
            bernoulli(batch, dim, gradScale, output, x, nllRows, dOutput);
        else
            gaussian(batch, dim, obsLogVar, gradScale, output, x, nllRows, dOutput);
    }

    /// <summary>Row shares of MMD²(z, prior) (B + M of them) and, unless p.GradScale is 0, dz += ∂(w·MMD²)/∂z.</summary>
    public void Mmd(MmdProblem p, ArrayView<float> z, ArrayView<float> prior, ArrayView<double> rowTerms, ArrayView<float> dz)
    {
        Require(z, (long)p.B * p.Latent, nameof(z)); Require(prior, (long)p.M * p.Latent, nameof(prior));
        Require(rowTerms, p.B + p.M, nameof(rowTerms));
        if (p.GradScale != 0f) Require(dz, (long)p.B * p.Latent, nameof(dz));
        if (p.B < 2 && p.Unbiased != 0 || p.M < 2 && p.Unbiased != 0)
            throw new ArgumentException($"The unbiased MMD estimator needs at least 2 codes and 2 prior samples (got {p.B} and {p.M}).");
        mmdRows(p.B + p.M, p, z, prior, rowTerms, dz);
    }

    /// <summary>The four loss terms from the row partials into terms[0..4), also added into totals.</summary>
    public void LossTerms(LossWeights w, ArrayView<double> nllRows, ArrayView<double> klRows, ArrayView<double> mmdRows,
        ArrayView<double> terms, ArrayView<double> totals)
    {
        Require(terms, Term.Count, nameof(terms)); Require(totals, Term.Count, nameof(totals));
        lossTerms(1, w, nllRows, klRows, mmdRows, terms, totals);
    }

    // ---- optimizers and batches ---------------------------------------------------------------------

    /// <summary>The threads an optimizer launch over <paramref name="length"/> parameters uses: the size its faults view needs.</summary>
    public int OptimizerThreads(int length) => device.Shares(length).Threads;

    /// <summary>One Adam/AdamW step; faults[t] counts the non-finite gradients thread t saw.</summary>
    public void Adam(AdamStep s, ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> m, ArrayView<float> v, ArrayView<int> faults)
    {
        int length = (int)parameters.Length;
        Require(gradients, length, nameof(gradients)); Require(m, length, nameof(m)); Require(v, length, nameof(v));
        s.Parameters = device.Shares(length);
        Require(faults, s.Parameters.Threads, nameof(faults));
        adam(s.Parameters.Threads, s, parameters, gradients, m, v, faults);
    }

    /// <summary>One SGD-with-momentum step; faults[t] counts the non-finite gradients thread t saw.</summary>
    public void SgdMomentum(SgdStep s, ArrayView<float> parameters, ArrayView<float> gradients, ArrayView<float> velocity, ArrayView<int> faults)
    {
        int length = (int)parameters.Length;
        Require(gradients, length, nameof(gradients)); Require(velocity, length, nameof(velocity));
        s.Parameters = device.Shares(length);
        Require(faults, s.Parameters.Threads, nameof(faults));
        sgd(s.Parameters.Threads, s, parameters, gradients, velocity, faults);
    }

    /// <summary>batch[r] = data[order[start + r]] (optionally binarized), for <c>g.Rows</c> rows.</summary>
    public void Gather(GatherProblem g, ArrayView<float> data, ArrayView<int> order, ArrayView<float> batch)
    {
        Require(order, g.Start + g.Rows, nameof(order)); Require(batch, (long)g.Rows * g.Dim, nameof(batch));
        g.Elements = device.Shares(g.Rows * g.Dim);
        gather(g.Elements.Threads, g, data, order, batch);
    }

    // ---- evaluation estimators ----------------------------------------------------------------------------

    /// <summary>z [Images·Samples, k] drawn from the posteriors in heads, and log p(z) − log q(z|x) per row.</summary>
    public void ImportanceSamples(ImportanceProblem p, ArrayView<float> heads, ArrayView<float> z, ArrayView<double> logRatio)
    {
        int rows = CheckRows(p);
        Require(heads, 2L * p.Images * p.Latent, nameof(heads)); Require(z, (long)rows * p.Latent, nameof(z));
        Require(logRatio, rows, nameof(logRatio));
        importanceSamples(rows, p, heads, z, logRatio);
    }

    /// <summary>logW[b, FirstSample + s] = −nll + log p(z) − log q(z|x) for the chunk's rows.</summary>
    public void ImportanceWeights(ImportanceProblem p, ArrayView<double> nllRows, ArrayView<double> logRatio, ArrayView<double> logWeights)
    {
        int rows = CheckRows(p);
        Require(nllRows, rows, nameof(nllRows)); Require(logRatio, rows, nameof(logRatio));
        Require(logWeights, (long)p.Images * p.TotalSamples, nameof(logWeights));
        importanceWeights(rows, p, nllRows, logRatio, logWeights);
    }

    static int CheckRows(ImportanceProblem p)
    {
        if (p.Samples <= 0 || p.RowStride < p.Samples || p.FirstSample + p.Samples > p.TotalSamples)
            throw new ArgumentException($"A chunk of {p.Samples} draws from {p.FirstSample} of {p.TotalSamples}, {p.RowStride} rows per image, does not fit.");
        return p.Images * p.RowStride;
    }

    /// <summary>Per image: log-mean-exp of its K log-weights (the IWAE bound) and their mean (the ELBO).</summary>
    public void LogMeanExp(int images, int samples, ArrayView<double> logWeights, ArrayView<double> iwae, ArrayView<double> elbo)
    {
        Require(logWeights, (long)images * samples, nameof(logWeights)); Require(iwae, images, nameof(iwae)); Require(elbo, images, nameof(elbo));
        logMeanExp(images, samples, logWeights, iwae, elbo);
    }

    /// <summary>Each code's share of the mutual information against the mixture of all <paramref name="count"/> posteriors.</summary>
    public void MutualInformationShares(int count, int latent, ArrayView<float> heads, ArrayView<float> z, ArrayView<double> shares)
    {
        Require(heads, 2L * count * latent, nameof(heads)); Require(z, (long)count * latent, nameof(z)); Require(shares, count, nameof(shares));
        mutualInformation(count, count, latent, heads, z, shares);
    }

    /// <summary>Per latent dimension: the variance of μ over the posteriors and the mean KL.</summary>
    public void DimensionStatistics(int count, int latent, ArrayView<float> heads, ArrayView<double> muVariance, ArrayView<double> klMean)
    {
        Require(heads, 2L * count * latent, nameof(heads)); Require(muVariance, latent, nameof(muVariance)); Require(klMean, latent, nameof(klMean));
        if (count == 0) throw new ArgumentException("Posterior statistics need at least one posterior.");
        dimensionStatistics(latent, count, latent, heads, muVariance, klMean);
    }

    static void Require<T>(ArrayView<T> view, long length, string name) where T : unmanaged
    {
        if (view.Length < length)
            throw new ArgumentException($"Buffer '{name}' holds {view.Length} elements; the launch needs {length}.", name);
    }
}
