using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Kernels;
using IlgpuVae.Model;

namespace IlgpuVae.Evaluation;

/// <summary>
/// The approximation and amortization gaps (Cremer, Li &amp; Duvenaud, 2018) on the first images of an evaluation, all
/// on the device. Per pass of images: the encoder's variational parameters (the heads μ and log σ², and an IAF's
/// context) are copied out, then optimized per image by Adam (<see cref="KernelSet.GapAdam"/>) on each image's own
/// −ELBO — the decoder and the flow fixed, the gradient the training step's backward through decoder and posterior,
/// stopped at the heads — until the ELBO stops rising: every <see cref="EvalOptions.GapWindow"/> steps the mean ELBO of
/// the window's draws over the pass is compared with the previous window's, and the optimization stops once it rose by
/// less than <see cref="EvalOptions.GapTolerance"/> (or after <see cref="EvalOptions.GapSteps"/> steps). Then the ELBOs
/// of the encoder's q and the optimized q* are estimated with the same ε per image and draw, so their difference — the
/// amortization gap — is a paired estimate whose error is far smaller than either ELBO's.
/// </summary>
internal static class InferenceGapEstimator
{
    /// <summary>
    /// The gaps on images [0, <paramref name="count"/>), <paramref name="pass"/> at a time through <paramref name="load"/>,
    /// with each image's log p̂(x) and its variance from the importance sampling.
    /// </summary>
    public static InferenceGapResult Measure(VaeModel model, LoadImages load, int count, int pass, EvalOptions options,
        double[] logLikelihood, double[]? logLikelihoodVariance)
    {
        if (logLikelihoodVariance is null || logLikelihood.Length < count)
            throw new InternalFaultException($"The inference gaps of {count} images were asked for with the log-likelihoods of {logLikelihood.Length}.");
        int k = model.Spec.LatentDim, c = model.Posterior.ContextWidth, rowsMax = Math.Min(pass, count);
        var memory = new DeviceMemory(model.Device, $"the inference gaps of {count} images");
        using var amortized = memory.Doubles((long)count * ElboDrawProblem.Moments);
        using var optimized = memory.Doubles((long)count * ElboDrawProblem.Moments);
        using var heads = new VariationalParameters(memory, (long)rowsMax * 2 * k);
        using var context = new VariationalParameters(memory, Math.Max(1, (long)rowsMax * c));
        using var draw = memory.Doubles(rowsMax);
        using var window = memory.Doubles((long)rowsMax * ElboDrawProblem.Moments);
        ulong stepKey = CounterRng.Key(options.Seed, RandomStreams.Evaluation, RandomStreams.EvaluationGapSteps);
        ulong elboKey = CounterRng.Key(options.Seed, RandomStreams.Evaluation, RandomStreams.EvaluationGapElbo);
        int steps = 0;
        for (int start = 0; start < count; start += rowsMax)
        {
            int rows = Math.Min(rowsMax, count - start);
            load(start, rows);
            model.Encode(rows);
            heads.Start(model.Heads, rows * 2 * k);
            if (c > 0) context.Start(model.Context, rows * c);
            steps = Math.Max(steps, Optimize(model, options, start, rows, heads, context, stepKey, draw.View, window.View));
            for (int d = 0; d < options.GapElboDraws; d++)
            {
                var p = new ElboDrawProblem { Rows = rows, Latent = k, First = d == 0 ? 1 : 0 };
                var moments = (long)start * ElboDrawProblem.Moments;
                var length = (long)rows * ElboDrawProblem.Moments;
                Draw(model, heads.Initial, context.Initial, c, rows, elboKey, (ulong)d, start);
                model.ReconstructionNll(rows);
                model.Kernels.ElboDraw(p, model.NllRows, model.KlTerms, draw.View, amortized.View.SubView(moments, length));
                Draw(model, heads.Current, context.Current, c, rows, elboKey, (ulong)d, start);
                model.ReconstructionNll(rows);
                model.Kernels.ElboDraw(p with { Paired = 1 }, model.NllRows, model.KlTerms, draw.View, optimized.View.SubView(moments, length));
            }
        }
        return Summarize(count, steps, options.GapElboDraws, amortized.GetAsArray1D(), optimized.GetAsArray1D(), logLikelihood, logLikelihoodVariance);
    }

    /// <summary>Adam on the pass's variational parameters until the stopping rule holds; returns the steps taken.</summary>
    static int Optimize(VaeModel model, EvalOptions options, int start, int rows, VariationalParameters heads, VariationalParameters context,
        ulong key, ArrayView<double> draw, ArrayView<double> window)
    {
        int k = model.Spec.LatentDim, c = model.Posterior.ContextWidth, draws = options.GapDraws;
        var moments = new double[rows * ElboDrawProblem.Moments];
        double previous = double.NegativeInfinity;
        const double Beta1 = 0.9, Beta2 = 0.999;
        for (int step = 1; step <= options.GapSteps; step++)
        {
            var adam = new AdamStep
            {
                LearningRate = (float)options.GapLearningRate, Beta1 = (float)Beta1, Beta2 = (float)Beta2, Epsilon = 1e-8f,
                BiasCorrection1 = (float)(1 - Math.Pow(Beta1, step)), BiasCorrection2 = (float)(1 - Math.Pow(Beta2, step)),
            };
            bool windowStart = (step - 1) % options.GapWindow == 0;
            for (int d = 0; d < draws; d++)
            {
                Draw(model, heads.Current, context.Current, c, rows, key, (ulong)(step - 1) * (ulong)draws + (ulong)d, start);
                model.VariationalGradient(rows);
                model.Kernels.ElboDraw(new ElboDrawProblem { Rows = rows, Latent = k, First = windowStart && d == 0 ? 1 : 0 },
                    model.NllRows, model.KlTerms, draw, window);
                var s = new GapAdamStep { Adam = adam, First = d == 0 ? 1 : 0, Last = d == draws - 1 ? 1 : 0, Scale = 1f / draws };
                heads.Update(model.Kernels, s, model.Encoder.HeadsGradient);
                if (c > 0) context.Update(model.Kernels, s, model.Posterior.ContextGradient);
            }
            if (step % options.GapWindow != 0) continue;
            window.SubView(0, moments.Length).CopyToCPU(moments);
            double sum = 0;
            for (int i = 0; i < rows; i++) sum += moments[i * ElboDrawProblem.Moments];
            double mean = sum / ((double)rows * options.GapWindow * draws);
            if (mean - previous < options.GapTolerance) return step;
            previous = mean;
        }
        return options.GapSteps;
    }

    /// <summary>One draw of z from the given variational parameters, decoded: ε keyed by image and <paramref name="drawIndex"/>.</summary>
    static void Draw(VaeModel model, ArrayView<float> heads, ArrayView<float> context, int c, int rows, ulong key, ulong drawIndex, int start)
    {
        heads.CopyTo(model.Heads.SubView(0, heads.Length));
        if (c > 0) context.CopyTo(model.Context.SubView(0, context.Length));
        model.DrawNoise(key, drawIndex, rows, 0, firstRow: start);
        model.SampleGiven(rows);
        model.Decode(rows);
    }

    /// <summary>The means and their Monte Carlo standard errors from each image's moments over <paramref name="draws"/> draws.</summary>
    static InferenceGapResult Summarize(int count, int steps, int draws, double[] amortized, double[] optimized, double[] logLikelihood, double[] logLikelihoodVariance)
    {
        const int M = ElboDrawProblem.Moments;
        double q = 0, qVar = 0, star = 0, starVar = 0, gap = 0, gapVar = 0, px = 0, pxVar = 0;
        for (int i = 0; i < count; i++)
        {
            double qMean = amortized[i * M] / draws, starMean = optimized[i * M] / draws, diffMean = starMean - qMean;
            q += qMean; star += starMean; gap += diffMean; px += logLikelihood[i];
            // The variance of each image's mean over its draws: the sample variance / draws.
            qVar += SampleVariance(amortized[i * M + 1], qMean, draws) / draws;
            starVar += SampleVariance(optimized[i * M + 1], starMean, draws) / draws;
            gapVar += SampleVariance(optimized[i * M + 2], diffMean, draws) / draws;
            pxVar += logLikelihoodVariance[i];
        }
        double n = count;
        return new InferenceGapResult(count, steps, px / n, Math.Sqrt(pxVar) / n, q / n, Math.Sqrt(qVar) / n, star / n, Math.Sqrt(starVar) / n,
            (px - star) / n, Math.Sqrt(pxVar + starVar) / n, gap / n, Math.Sqrt(gapVar) / n);
    }

    /// <summary>(Σx² − S·x̄²)/(S − 1), at least 0.</summary>
    static double SampleVariance(double squares, double mean, int draws) => Math.Max(0, (squares - draws * mean * mean) / (draws - 1));

    /// <summary>A pass's variational parameters on the device: the encoder's, the optimized ones, Adam's moments and the draws' gradient sum.</summary>
    sealed class VariationalParameters(DeviceMemory memory, long length) : IDisposable
    {
        readonly MemoryBuffer1D<float, Stride1D.Dense> initial = memory.Floats(length), current = memory.Floats(length),
            sums = memory.Floats(length), first = memory.Floats(length), second = memory.Floats(length);
        int used;

        public ArrayView<float> Initial => initial.View.SubView(0, used);
        public ArrayView<float> Current => current.View.SubView(0, used);

        /// <summary>Starts from the encoder's <paramref name="values"/> (their first <paramref name="count"/>), Adam's moments at zero.</summary>
        public void Start(ArrayView<float> values, int count)
        {
            used = count;
            values.SubView(0, count).CopyTo(Initial);
            values.SubView(0, count).CopyTo(Current);
            first.View.SubView(0, count).MemSetToZero();
            second.View.SubView(0, count).MemSetToZero();
        }

        public void Update(KernelSet kernels, GapAdamStep s, ArrayView<float> gradients) =>
            kernels.GapAdam(s, gradients.SubView(0, used), Current, sums.View.SubView(0, used), first.View.SubView(0, used), second.View.SubView(0, used));

        public void Dispose()
        {
            foreach (var b in new[] { initial, current, sums, first, second }) b.Dispose();
        }
    }
}
