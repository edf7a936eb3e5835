using IlgpuVae.Kernels;

namespace IlgpuVae;

/// <summary>Forward-only passes over a data set: the mean loss terms of a model, without touching its parameters.</summary>
public static class Evaluation
{
    /// <summary>
    /// The mean terms over <paramref name="data"/> in order, with ε and prior draws keyed by (seed, batch
    /// index) — the same numbers every time for the same parameters. A binarized data set is binarized with one
    /// fixed key, so epochs are compared on the same images.
    /// </summary>
    public static LossTerms MeanTerms(VaeModel model, DeviceDataSet data, ObjectiveSpec objective, ulong seed, bool binarize)
    {
        model.TakeTotals();
        int seen = 0, batchSize = model.MaxBatch;
        ulong noiseSeed = CounterRng.Key(seed, RandomStreams.Evaluation, 0);
        ulong binarizeKey = CounterRng.Key(seed, RandomStreams.Binarization, ulong.MaxValue);
        for (int b = 0, start = 0; start < data.Count; b++, start += batchSize)
        {
            int rows = Math.Min(batchSize, data.Count - start);
            if (rows < MinimumRows(objective)) continue;
            data.GatherInto(model, start, rows, binarize, binarizeKey);
            model.DrawNoise(noiseSeed, (ulong)b, rows, objective.PriorCount(rows));
            model.Run(objective, rows, backward: false);
            seen += rows;
        }
        return Mean(model.TakeTotals(), seen);
    }

    /// <summary>The unbiased MMD needs two codes per batch; a last batch of one row is skipped.</summary>
    public static int MinimumRows(ObjectiveSpec objective) => objective.Estimator == MmdEstimator.Unbiased ? 2 : 1;

    /// <summary>Per-image means from the batch-size-weighted sums of <see cref="VaeModel.TakeTotals"/>.</summary>
    public static LossTerms Mean(double[] sums, int count) => count == 0
        ? new LossTerms(double.NaN, double.NaN, double.NaN, double.NaN)
        : new LossTerms(sums[Term.Recon] / count, sums[Term.Kl] / count, sums[Term.Mmd] / count, sums[Term.Loss] / count);
}
