using IlgpuVae.Data;
using IlgpuVae.Kernels;

namespace IlgpuVae.Model;

/// <summary>
/// Forward-only passes over a data set: the mean loss terms of a model, without touching its parameters — what
/// the trainer reports for the test set each epoch and the evaluation averages over several draws.
/// </summary>
internal static class DataSetTerms
{
    /// <summary>
    /// The mean terms over <paramref name="data"/> in order, with ε and prior draws keyed by (seed, batch
    /// index) — the same numbers every time for the same parameters. A binarized data set is binarized with one
    /// fixed key, so epochs are compared on the same images. Batches of <paramref name="passRows"/> (at most the
    /// model's batch, which is the default). Every image counts in recon and KL; the MMD² is the mean over the
    /// batches large enough for its estimator (a last batch of one image has none, for the unbiased one), and the
    /// loss is then made of the means. A set with no such batch has no MMD²: it is refused. The loss weighs the KL by
    /// <paramref name="klWeight"/> where given (a warm-up's weight at the end of the last step), else by 1 − α; under free
    /// bits its KL term is each batch's clamped sum, as in training.
    /// </summary>
    public static LossTerms Mean(VaeModel model, DeviceDataSet data, ObjectiveSpec objective, ulong seed, bool binarize, int? passRows = null,
        double? klWeight = null)
    {
        double kl = klWeight ?? objective.KlWeight;
        if (!objective.CanEstimateMmd(data.Count))
            throw new ArgumentException($"The unbiased MMD² needs at least {ObjectiveSpec.UnbiasedMmdMinimum} images; the data set holds {data.Count}.");
        model.TakeTotals();
        int seen = 0, seenByMmd = 0, batchSize = Math.Min(passRows ?? model.MaxBatch, model.MaxBatch);
        ulong noiseSeed = CounterRng.Key(seed, RandomStreams.Evaluation, RandomStreams.EvaluationTerms);
        ulong binarizeKey = BinarizationKey(seed);
        for (int b = 0, start = 0; start < data.Count; b++, start += batchSize)
        {
            int rows = Math.Min(batchSize, data.Count - start);
            data.Gather(start, rows, binarize, binarizeKey, model.Input);
            model.DrawNoise(noiseSeed, (ulong)b, rows, objective.PriorCount(rows));
            model.Compute(objective, rows, backward: false, kl);
            model.ReduceTerms();
            seen += rows;
            if (objective.CanEstimateMmd(rows)) seenByMmd += rows;
        }
        var sums = model.TakeTotals();
        if (seenByMmd == seen) return LossTerms.Mean(sums, seen);
        var t = LossTerms.Mean(sums, seen);
        double mmd = sums[Term.Mmd] / seenByMmd;
        // Under free bits the KL term of the loss is not t.Kl but each batch's clamped sum, which only the summed loss holds:
        // its MMD share is moved from the mean over every image to the mean over the images the MMD saw.
        double loss = objective.FreeBits > 0
            ? t.Loss + (float)objective.MmdWeight * (mmd - t.Mmd)
            : t.Recon + (float)kl * t.Kl + (float)objective.MmdWeight * mmd;
        return t with { Mmd = mmd, Loss = loss };
    }

    /// <summary>
    /// The one binarization of an evaluated data set, the same for every epoch and every estimator, so numbers
    /// are compared on the same images (training draws a new one each epoch).
    /// </summary>
    public static ulong BinarizationKey(ulong seed) => CounterRng.Key(seed, RandomStreams.Binarization, RandomStreams.EvaluationBinarization);
}
