using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Kernels;

namespace IlgpuVae;

/// <summary>
/// Measures a model on a data set, all on the device: the loss terms and −ELBO, the importance-weighted NLL,
/// the mutual information, active units, the per-dimension KL and the MMD between the aggregate posterior and
/// the prior. The draws are keyed by the options' seed, so the numbers repeat.
/// </summary>
public static class Evaluator
{
    public static EvalResult Run(VaeModel model, ObjectiveSpec objective, DeviceDataSet data, EvalOptions options, bool binarize)
    {
        options.Validate();
        int n = data.Count, k = model.Spec.LatentDim;
        var sums = new double[4];
        for (int s = 0; s < options.ElboSamples; s++)
        {
            var t = Evaluation.MeanTerms(model, data, objective, options.Seed + (ulong)s, binarize);
            sums[0] += t.Recon; sums[1] += t.Kl; sums[2] += t.Mmd; sums[3] += t.Loss;
        }
        var terms = new LossTerms(sums[0] / options.ElboSamples, sums[1] / options.ElboSamples, sums[2] / options.ElboSamples, sums[3] / options.ElboSamples);

        var a = model.Device.Accelerator;
        var kernels = model.Device.Kernels;
        using var heads = a.Allocate1D<float>(2L * n * k);
        using var codes = a.Allocate1D<float>((long)n * k);
        Posteriors(model, data, options, binarize, heads.View, codes.View);

        using var muVariance = a.Allocate1D<double>(k);
        using var klMean = a.Allocate1D<double>(k);
        kernels.DimensionStatistics(n, k, heads.View, muVariance.View, klMean.View);
        var variance = muVariance.GetAsArray1D();

        using var shares = a.Allocate1D<double>(n);
        kernels.MutualInformationShares(n, k, heads.View, codes.View, shares.View);
        double mi = shares.GetAsArray1D().Average();

        double iwae = options.ImportanceSamples > 0 ? ImportanceWeightedNll(model, data, options, binarize) : double.NaN;
        return new EvalResult(terms, terms.NegativeElbo, iwae, options.ImportanceSamples, mi,
            variance.Count(v => v > options.ActiveUnitThreshold), variance, klMean.GetAsArray1D(),
            AggregateMmd(model, objective, codes.View, Math.Min(n, options.MmdSamples), options.Seed), n, data.Dim);
    }

    /// <summary>μ, log σ² and one code z ~ q(z|x) for every image, in order.</summary>
    static void Posteriors(VaeModel model, DeviceDataSet data, EvalOptions options, bool binarize, ArrayView<float> heads, ArrayView<float> codes)
    {
        int k = model.Spec.LatentDim;
        ulong binarizeKey = CounterRng.Key(options.Seed, RandomStreams.Binarization, ulong.MaxValue);
        for (int start = 0, b = 0; start < data.Count; start += model.MaxBatch, b++)
        {
            int rows = Math.Min(model.MaxBatch, data.Count - start);
            data.GatherInto(model, start, rows, binarize, binarizeKey);
            model.DrawNoise(CounterRng.Key(options.Seed, RandomStreams.Evaluation, 1), (ulong)b, rows, 0);
            model.Encode(rows);
            model.Heads.SubView(0, 2L * rows * k).CopyTo(heads.SubView(2L * start * k, 2L * rows * k));
            model.Z.SubView(0, (long)rows * k).CopyTo(codes.SubView((long)start * k, (long)rows * k));
        }
    }

    /// <summary>
    /// −mean log p(x) by importance sampling with K draws of q(z|x) per image. The model's batch holds
    /// images × draws rows: each group of images is encoded once, its rows of x repeated once per draw,
    /// and the K draws decoded in chunks.
    /// </summary>
    static double ImportanceWeightedNll(VaeModel model, DeviceDataSet data, EvalOptions options, bool binarize)
    {
        int kSamples = options.ImportanceSamples, rowsMax = model.MaxBatch;
        int perChunk = Math.Min(kSamples, rowsMax), images = Math.Max(1, rowsMax / perChunk);
        var a = model.Device.Accelerator;
        var kernels = model.Device.Kernels;
        using var logRatio = a.Allocate1D<double>(rowsMax);
        using var logWeights = a.Allocate1D<double>((long)images * kSamples);
        using var iwae = a.Allocate1D<double>(images);
        using var elbo = a.Allocate1D<double>(images);
        using var repeated = a.Allocate1D<int>(images * perChunk);
        var order = new int[images * perChunk];
        var hostIwae = new double[images];
        ulong binarizeKey = CounterRng.Key(options.Seed, RandomStreams.Binarization, ulong.MaxValue);
        ulong drawKey = CounterRng.Key(options.Seed, RandomStreams.Evaluation, 2);
        double total = 0;
        for (int first = 0; first < data.Count; first += images)
        {
            int count = Math.Min(images, data.Count - first);
            data.GatherInto(model, first, count, binarize, binarizeKey);
            model.Encode(count);
            // x of image b in rows b·perChunk … b·perChunk + perChunk − 1, for every chunk of draws.
            for (int r = 0; r < count * perChunk; r++) order[r] = data.OrderAt(first + r / perChunk);
            repeated.View.SubView(0, count * perChunk).CopyFromCPU(order.AsSpan(0, count * perChunk).ToArray());
            kernels.Gather(new GatherProblem
            {
                Rows = count * perChunk, Dim = data.Dim, Binarize = binarize ? 1 : 0, Key = binarizeKey,
            }, data.Pixels, repeated.View, model.Input);
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
            kernels.LogMeanExp(count, kSamples, logWeights.View, iwae.View, elbo.View);
            iwae.View.CopyToCPU(hostIwae);
            for (int b = 0; b < count; b++) total += hostIwae[b];
        }
        return -total / data.Count;
    }

    /// <summary>MMD² between the first <paramref name="count"/> codes and as many fresh prior draws, with the run's kernel.</summary>
    static double AggregateMmd(VaeModel model, ObjectiveSpec objective, ArrayView<float> codes, int count, ulong seed)
    {
        if (count < 2) return double.NaN;
        int k = model.Spec.LatentDim;
        var a = model.Device.Accelerator;
        using var prior = a.Allocate1D<float>((long)count * k);
        using var rows = a.Allocate1D<double>(2 * count);
        model.Device.Kernels.FillNormal(CounterRng.Key(seed, RandomStreams.Prior, ulong.MaxValue), prior.View, count * k);
        model.Device.Kernels.Mmd(new MmdProblem
        {
            B = count, M = count, Latent = k, Kernel = (int)objective.Kernel, KernelParameter = (float)objective.KernelParameter,
            Unbiased = 1, GradScale = 0f,
        }, codes, prior.View, rows.View, default);
        return rows.GetAsArray1D().Sum();
    }
}
