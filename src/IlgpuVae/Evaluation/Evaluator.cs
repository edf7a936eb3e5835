using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Evaluation;

/// <summary>
/// Measures a model on a data set, all on the device: the loss terms and −ELBO, the importance-weighted NLL,
/// the mutual information, active units, the per-dimension KL and the MMD between the aggregate posterior and
/// the prior. The draws are keyed by the options' seed, so the numbers repeat. What depends on the posterior — its
/// importance draws, its means' statistics, its mutual information — its piece computes (<see cref="IPosterior"/>;
/// an IAF's means are Monte Carlo ones and its mutual information inverts the flow on the first
/// <see cref="EvalOptions.MiLimit"/> images).
/// </summary>
internal static class Evaluator
{
    /// <summary>
    /// The most rows per pass of the one-draw estimators (the terms, the posteriors, a flow's means); a pass is this or
    /// the model's batch, whichever is smaller. Their draws are keyed by the pass, so the numbers of a model whose batch
    /// is at least this do not change when the batch grows for the importance sampling (whose draws are keyed by image
    /// and draw); a model with a smaller batch — <c>--eval-every</c> during training, at the training batch — passes
    /// fewer rows, so its one-draw numbers differ from <c>eval</c>'s by their Monte Carlo error.
    /// </summary>
    public const int PassRows = 1000;

    /// <summary>
    /// The fewest images an evaluation takes: the aggregate MMD² compares two codes or more with as many prior draws,
    /// with the unbiased estimator (the others have an estimate for one image: the −ELBO, the IWAE NLL, the mutual information).
    /// </summary>
    public const int MinimumImages = ObjectiveSpec.UnbiasedMmdMinimum;

    /// <summary>Throws <see cref="ArgumentException"/> for a set of fewer than <see cref="MinimumImages"/> images, naming the estimator that needs them.</summary>
    public static void RequireImages(int count)
    {
        if (count < MinimumImages)
            throw new ArgumentException(
                $"The evaluation needs at least {MinimumImages} images: the aggregate MMD² (mmd_aggregate) compares {MinimumImages} codes or more with as many prior draws; got {count}.");
    }

    /// <summary>
    /// The estimators on <paramref name="data"/>. Training's KL schedule plays no part: the loss (test_loss) weighs the
    /// unclamped KL by the objective's 1 − α — no warm-up, no free bits — and the −ELBO is recon + KL whatever the objective.
    /// </summary>
    public static EvalResult Run(VaeModel model, ObjectiveSpec objective, DeviceDataSet data, EvalOptions options, bool binarize)
    {
        options.Validate();
        objective = objective with { FreeBits = 0 };
        RequireImages(data.Count);
        int n = data.Count, k = model.Spec.LatentDim, pass = Math.Min(model.MaxBatch, PassRows);
        var totals = new double[4];
        for (int s = 0; s < options.ElboSamples; s++)
        {
            var t = DataSetTerms.Mean(model, data, objective, options.Seed + (ulong)s, binarize, pass);
            totals[0] += t.Recon; totals[1] += t.Kl; totals[2] += t.Mmd; totals[3] += t.Loss;
        }
        var terms = new LossTerms(totals[0] / options.ElboSamples, totals[1] / options.ElboSamples, totals[2] / options.ElboSamples, totals[3] / options.ElboSamples);

        var kernels = model.Kernels;
        var memory = new DeviceMemory(model.Device, $"evaluating {n} images");
        using var heads = memory.Floats(2L * n * k);
        using var codes = memory.Floats((long)n * k);
        using var kl = memory.Doubles((long)n * k);
        using var contexts = memory.Floats(Math.Max(1, (long)n * model.Posterior.ContextWidth));
        ulong binarizeKey = DataSetTerms.BinarizationKey(options.Seed);
        var set = new PosteriorEvaluation(n, pass, (start, rows) => data.Gather(start, rows, binarize, binarizeKey, model.Input),
            options.Seed, options.FlowDraws, options.MiLimit);
        Posteriors(model, set, heads.View, codes.View, kl.View, contexts.View);

        using var muVariance = memory.Doubles(k);
        using var klMean = memory.Doubles(k);
        model.Posterior.DimensionStatistics(model, set, heads.View, kl.View, muVariance.View, klMean.View);
        var variance = muVariance.GetAsArray1D();
        var (mi, miImages) = model.Posterior.MutualInformation(model, set, heads.View, contexts.View, codes.View);
        var decomposition = model.Posterior.KlDecomposition(model, set, heads.View, codes.View);

        (double[] LogLikelihood, double[]? Variance)? importance = options.ImportanceSamples > 0 ? ImportanceWeighted(model, data, options, binarize, options.GapImages > 0) : null;
        double iwae = double.NaN;
        if (importance is { } weighted)
        {
            double total = 0;
            foreach (double v in weighted.LogLikelihood) total += v;
            iwae = -total / n;
        }
        var gaps = options.GapImages > 0
            ? InferenceGapEstimator.Measure(model, (start, rows) => data.Gather(start, rows, binarize, binarizeKey, model.Input), Math.Min(n, options.GapImages),
                pass, options, importance!.Value.LogLikelihood, importance.Value.Variance)
            : null;
        return new EvalResult(terms, terms.NegativeElbo, iwae, options.ImportanceSamples, mi,
            variance.Count(v => v > options.ActiveUnitThreshold), variance, klMean.GetAsArray1D(),
            AggregateMmd(model, objective, codes.View, Math.Min(n, options.MmdSamples), options.Seed), n, data.Dim)
        {
            MiImages = miImages, KlDecomposition = decomposition,
            Gaps = gaps,
        };
    }

    /// <summary>μ, log σ², one code z ~ q(z|x), its KL elements and the posterior's context (if any), for every image in order.</summary>
    static void Posteriors(VaeModel model, PosteriorEvaluation set, ArrayView<float> heads, ArrayView<float> codes, ArrayView<double> kl, ArrayView<float> contexts)
    {
        int k = model.Spec.LatentDim, c = model.Posterior.ContextWidth;
        for (int start = 0, b = 0; start < set.Count; start += set.Pass, b++)
        {
            int rows = Math.Min(set.Pass, set.Count - start);
            set.Load(start, rows);
            model.DrawNoise(CounterRng.Key(set.Seed, RandomStreams.Evaluation, RandomStreams.EvaluationCodes), (ulong)b, rows, 0);
            model.Encode(rows);
            model.Heads.SubView(0, 2L * rows * k).CopyTo(heads.SubView(2L * start * k, 2L * rows * k));
            model.Z.SubView(0, (long)rows * k).CopyTo(codes.SubView((long)start * k, (long)rows * k));
            model.KlTerms.SubView(0, (long)rows * k).CopyTo(kl.SubView((long)start * k, (long)rows * k));
            if (c > 0) model.Context.SubView(0, (long)rows * c).CopyTo(contexts.SubView((long)start * c, (long)rows * c));
        }
    }

    /// <summary>
    /// −mean log p(x) by importance sampling with K draws of q(z|x) per image. The model's batch holds
    /// images × draws rows: each group of images is encoded once and the K draws decoded in chunks, every draw's
    /// likelihood reading its image's one row of x; each image's estimate stays on the device until the end. A decoder
    /// that reads x, or a posterior that encodes each draw's row itself (<see cref="IPosterior.EncodesEachDraw"/>: a
    /// flow, weighing each draw by its exact log q(z|x)), needs x per draw: then the rows of x are gathered once per draw
    /// (on the device). Returns each image's log p̂(x) and, with <paramref name="variances"/>, its delta-method variance.
    /// </summary>
    static (double[] LogLikelihood, double[]? Variance) ImportanceWeighted(VaeModel model, DeviceDataSet data, EvalOptions options, bool binarize, bool variances)
    {
        int kSamples = options.ImportanceSamples, rowsMax = model.MaxBatch;
        int perChunk = Math.Min(kSamples, rowsMax), images = Math.Max(1, rowsMax / perChunk);
        bool repeatRows = model.Posterior.EncodesEachDraw || model.Decoder.ReadsInput;
        var kernels = model.Kernels;
        var memory = new DeviceMemory(model.Device, $"importance sampling with K = {kSamples}");
        using var logRatio = memory.Doubles(rowsMax);
        using var logWeights = memory.Doubles((long)images * kSamples);
        using var iwae = memory.Doubles(data.Count);
        using var elbo = memory.Doubles(images);
        using var variance = memory.Doubles(variances ? data.Count : 1);
        ulong binarizeKey = DataSetTerms.BinarizationKey(options.Seed);
        ulong drawKey = CounterRng.Key(options.Seed, RandomStreams.Evaluation, RandomStreams.EvaluationImportance);
        for (int first = 0; first < data.Count; first += images)
        {
            int count = Math.Min(images, data.Count - first);
            data.Gather(first, count, binarize, binarizeKey, model.Input);
            model.Encode(count);
            // x of image b in rows b·perChunk … b·perChunk + perChunk − 1, for every chunk of draws.
            if (repeatRows) data.Gather(first, count * perChunk, binarize, binarizeKey, model.Input, repeat: perChunk);
            for (int s0 = 0; s0 < kSamples; s0 += perChunk)
            {
                var p = new ImportanceProblem
                {
                    Images = count, Samples = Math.Min(perChunk, kSamples - s0), RowStride = perChunk,
                    Latent = model.Spec.LatentDim, TotalSamples = kSamples, FirstSample = s0, FirstImage = first, Key = drawKey,
                };
                // A short last chunk decodes some stale rows too; ImportanceWeights ignores them.
                model.Posterior.ImportanceDraws(model, p, logRatio.View);
                model.Decode(count * perChunk);
                model.ReconstructionNll(count * perChunk, repeatRows ? 1 : perChunk);
                kernels.ImportanceWeights(p, model.NllRows, logRatio.View, logWeights.View);
            }
            kernels.LogMeanExp(count, kSamples, logWeights.View, iwae.View.SubView(first, count), elbo.View,
                variances ? variance.View.SubView(first, count) : default);
        }
        return (iwae.GetAsArray1D(), variances ? variance.GetAsArray1D() : null);
    }

    /// <summary>MMD² between the first <paramref name="count"/> codes and as many fresh prior draws, with the run's kernel.</summary>
    static double AggregateMmd(VaeModel model, ObjectiveSpec objective, ArrayView<float> codes, int count, ulong seed)
    {
        if (count < MinimumImages) throw new InternalFaultException($"The aggregate MMD² was asked for {count} codes; Run refuses fewer than {MinimumImages}.");
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
