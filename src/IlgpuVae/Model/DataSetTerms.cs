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
    /// loss is then made of the means. A set with no such batch has no MMD²: it is refused.
    /// </summary>
    public static LossTerms Mean(VaeModel model, DeviceDataSet data, ObjectiveSpec objective, ulong seed, bool binarize, int? passRows = null)
    {
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
            model.Compute(objective, rows, backward: false);
            model.ReduceTerms();
            seen += rows;
            if (objective.CanEstimateMmd(rows)) seenByMmd += rows;
        }
        var sums = model.TakeTotals();
        if (seenByMmd == seen) return LossTerms.Mean(sums, seen);
        var t = LossTerms.Mean(sums, seen);
        double mmd = sums[Term.Mmd] / seenByMmd;
        return t with { Mmd = mmd, Loss = t.Recon + (float)objective.KlWeight * t.Kl + (float)objective.MmdWeight * mmd };
    }

    /// <summary>
    /// The one binarization of an evaluated data set, the same for every epoch and every estimator, so numbers
    /// are compared on the same images (training draws a new one each epoch).
    /// </summary>
    public static ulong BinarizationKey(ulong seed) => CounterRng.Key(seed, RandomStreams.Binarization, RandomStreams.EvaluationBinarization);
}
