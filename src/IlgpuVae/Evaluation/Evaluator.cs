using ILGPU.Runtime;
using ILGPU;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Evaluation;

/// <summary>
/// Measures a model on a data set, all on the device: the loss terms and −ELBO, the importance-weighted NLL,
/// the mutual information, active units, the per-dimension KL and the MMD between the aggregate posterior and
/// the prior. The draws are keyed by the options' seed, so the numbers repeat.
/// </summary>
internal static class Evaluator
{
    public static EvalResult Run(VaeModel model, ObjectiveSpec objective, DeviceDataSet data, EvalOptions options, bool binarize)
    {
        options.Validate();
        int n = data.Count, k = model.Spec.LatentDim;
        var sums = new double[4];
        for (int s = 0; s < options.ElboSamples; s++)
        {
            var t = DataSetTerms.Mean(model, data, objective, options.Seed + (ulong)s, binarize);
            sums[0] += t.Recon; sums[1] += t.Kl; sums[2] += t.Mmd; sums[3] += t.Loss;
        }
        var terms = new LossTerms(sums[0] / options.ElboSamples, sums[1] / options.ElboSamples, sums[2] / options.ElboSamples, sums[3] / options.ElboSamples);

        var kernels = model.Device.Kernels;
        var memory = new DeviceMemory(model.Device, $"evaluating {n} images");
        using var heads = memory.Floats(2L * n * k);
        using var codes = memory.Floats((long)n * k);
        Posteriors(model, data, options, binarize, heads.View, codes.View);

        using var muVariance = memory.Doubles(k);
        using var klMean = memory.Doubles(k);
        kernels.DimensionStatistics(n, k, heads.View, muVariance.View, klMean.View);
        var variance = muVariance.GetAsArray1D();

        using var miTerms = memory.Doubles(n);
        kernels.MutualInformationTerms(n, k, heads.View, codes.View, miTerms.View);
        double mi = miTerms.GetAsArray1D().Average();

        double iwae = options.ImportanceSamples > 0 ? ImportanceWeightedNll(model, data, options, binarize) : double.NaN;
        return new EvalResult(terms, terms.NegativeElbo, iwae, options.ImportanceSamples, mi,
            variance.Count(v => v > options.ActiveUnitThreshold), variance, klMean.GetAsArray1D(),
            AggregateMmd(model, objective, codes.View, Math.Min(n, options.MmdSamples), options.Seed), n, data.Dim);
    }

    /// <summary>μ, log σ² and one code z ~ q(z|x) for every image, in order.</summary>
    static void Posteriors(VaeModel model, DeviceDataSet data, EvalOptions options, bool binarize, ArrayView<float> heads, ArrayView<float> codes)
    {
        int k = model.Spec.LatentDim;
        ulong binarizeKey = DataSetTerms.BinarizationKey(options.Seed);
        for (int start = 0, b = 0; start < data.Count; start += model.MaxBatch, b++)
        {
            int rows = Math.Min(model.MaxBatch, data.Count - start);
            data.Gather(start, rows, binarize, binarizeKey, model.Input);
            model.DrawNoise(CounterRng.Key(options.Seed, RandomStreams.Evaluation, RandomStreams.EvaluationCodes), (ulong)b, rows, 0);
            model.Encode(rows);
            model.Heads.SubView(0, 2L * rows * k).CopyTo(heads.SubView(2L * start * k, 2L * rows * k));
            model.Z.SubView(0, (long)rows * k).CopyTo(codes.SubView((long)start * k, (long)rows * k));
        }
    }

    /// <summary>
    /// −mean log p(x) by importance sampling with K draws of q(z|x) per image. The model's batch holds
    /// images × draws rows: each group of images is encoded once, its rows of x gathered once per draw (on the
    /// device), and the K draws decoded in chunks; each image's estimate stays on the device until the end.
    /// </summary>
    static double ImportanceWeightedNll(VaeModel model, DeviceDataSet data, EvalOptions options, bool binarize)
    {
        int kSamples = options.ImportanceSamples, rowsMax = model.MaxBatch;
        int perChunk = Math.Min(kSamples, rowsMax), images = Math.Max(1, rowsMax / perChunk);
        var kernels = model.Device.Kernels;
        var memory = new DeviceMemory(model.Device, $"importance sampling with K = {kSamples}");
        using var logRatio = memory.Doubles(rowsMax);
        using var logWeights = memory.Doubles((long)images * kSamples);
        using var iwae = memory.Doubles(data.Count);
        using var elbo = memory.Doubles(images);
        ulong binarizeKey = DataSetTerms.BinarizationKey(options.Seed);
        ulong drawKey = CounterRng.Key(options.Seed, RandomStreams.Evaluation, RandomStreams.EvaluationImportance);
        for (int first = 0; first < data.Count; first += images)
        {
            int count = Math.Min(images, data.Count - first);
            data.Gather(first, count, binarize, binarizeKey, model.Input);
            model.Encode(count);
            // x of image b in rows b·perChunk … b·perChunk + perChunk − 1, for every chunk of draws.
            data.Gather(first, count * perChunk, binarize, binarizeKey, model.Input, repeat: perChunk);
            for (int s0 = 0; s0 < kSamples; s0 += perChunk)
            {
                var p = new ImportanceProblem
                {
                    Images = count, Samples = Math.Min(perChunk, kSamples - s0), RowStride = perChunk,
                    Latent = model.Spec.LatentDim, TotalSamples = kSamples, FirstSample = s0, FirstImage = first, Key = drawKey,
                };
                // A short last chunk decodes some stale rows too; ImportanceWeights ignores them.
                kernels.ImportanceSamples(p, model.Heads, model.Z, logRatio.View);
                model.Decode(count * perChunk);
                model.ReconstructionNll(count * perChunk);
                kernels.ImportanceWeights(p, model.NllRows, logRatio.View, logWeights.View);
            }
            kernels.LogMeanExp(count, kSamples, logWeights.View, iwae.View.SubView(first, count), elbo.View);
        }
        double total = 0;
        foreach (double v in iwae.GetAsArray1D()) total += v;
        return -total / data.Count;
    }

    /// <summary>MMD² between the first <paramref name="count"/> codes and as many fresh prior draws, with the run's kernel.</summary>
    static double AggregateMmd(VaeModel model, ObjectiveSpec objective, ArrayView<float> codes, int count, ulong seed)
    {
        if (count < 2) return double.NaN;
        int k = model.Spec.LatentDim;
        var memory = new DeviceMemory(model.Device, $"the aggregate MMD of {count} codes");
        using var prior = memory.Floats((long)count * k);
        using var rows = memory.Doubles(2 * count);
        model.Device.Kernels.FillNormal(CounterRng.Key(seed, RandomStreams.Prior, RandomStreams.AggregateMmdPrior), count * k, prior.View);
        model.Device.Kernels.Mmd(new MmdProblem
        {
            B = count, M = count, Latent = k, Kernel = (int)objective.Kernel, KernelParameter = (float)objective.KernelParameter,
            Unbiased = 1, GradScale = 0f,
        }, codes, prior.View, default, default, rows.View, default, default);
        return rows.GetAsArray1D().Sum();
    }
}
