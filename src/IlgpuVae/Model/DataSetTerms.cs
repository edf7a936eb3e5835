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
    /// model's batch, which is the default).
    /// </summary>
    public static LossTerms Mean(VaeModel model, DeviceDataSet data, ObjectiveSpec objective, ulong seed, bool binarize, int? passRows = null)
    {
        model.TakeTotals();
        int seen = 0, batchSize = Math.Min(passRows ?? model.MaxBatch, model.MaxBatch);
        ulong noiseSeed = CounterRng.Key(seed, RandomStreams.Evaluation, RandomStreams.EvaluationTerms);
        ulong binarizeKey = BinarizationKey(seed);
        for (int b = 0, start = 0; start < data.Count; b++, start += batchSize)
        {
            int rows = Math.Min(batchSize, data.Count - start);
            if (rows < objective.MinimumBatch) continue;
            data.Gather(start, rows, binarize, binarizeKey, model.Input);
            model.DrawNoise(noiseSeed, (ulong)b, rows, objective.PriorCount(rows));
            model.Compute(objective, rows, backward: false);
            model.ReduceTerms();
            seen += rows;
        }
        return LossTerms.Mean(model.TakeTotals(), seen);
    }

    /// <summary>
    /// The one binarization of an evaluated data set, the same for every epoch and every estimator, so numbers
    /// are compared on the same images (training draws a new one each epoch).
    /// </summary>
    public static ulong BinarizationKey(ulong seed) => CounterRng.Key(seed, RandomStreams.Binarization, RandomStreams.EvaluationBinarization);
}
