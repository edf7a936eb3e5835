using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>Which rows to gather, and how.</summary>
public struct GatherProblem
{
    /// <summary>Batch rows, values per row, first position in the order list.</summary>
    public int Rows, Dim, Start;
    /// <summary>Consecutive batch rows that take the same data row (1: each its own; K: K copies of each, for importance sampling).</summary>
    public int Repeat;
    /// <summary>1: draw x ~ Bernoulli(p) per pixel with <see cref="Key"/>; 0: copy p.</summary>
    public int Binarize;
    /// <summary>The counter-based generator's key of this epoch's binarization draws.</summary>
    public ulong Key;
    /// <summary>The Rows·Dim batch elements among the launch's threads.</summary>
    public Partition Items;
}

/// <summary>
/// Assembling a batch on the device from the data set held there: rows are gathered through a shuffled
/// index list, and optionally binarized by a fresh Bernoulli draw per pixel (dynamic binarization).
/// </summary>
public static class Batches
{
    /// <summary>
    /// batch[r, i] = data[order[start + r / repeat], i], or, when g.Binarize is 1, a Bernoulli draw with that
    /// probability (the key and the data element decide the draw, so repeated rows are binarized alike and a
    /// new key every epoch gives a new binarization). Grid-stride over the batch's elements.
    /// </summary>
    public static void GatherGpu(Index1D thread, GatherProblem g,
        ArrayView<float> data, ArrayView<int> order, ArrayView<float> batch)
    {
        var s = g.Items;
        foreach (int e in s.Of(thread))
        {
            int r = e / g.Dim, i = e - r * g.Dim;
            long source = (long)order[g.Start + r / g.Repeat] * g.Dim + i;
            float p = data[source];
            batch[e] = g.Binarize != 0 ? (CounterRng.Uniform(g.Key, source) < p ? 1f : 0f) : p;
        }
    }

    /// <summary>CPU: <see cref="GatherGpu"/> over each thread's run as row blocks (<see cref="BatchRows"/>).</summary>
    public static void GatherCpu(Index1D thread, GatherProblem g,
        ArrayView<float> data, ArrayView<int> order, ArrayView<float> batch)
    {
        var s = g.Items;
        foreach (var run in s.RunsOf(thread))
            BatchRows.Gather(g, run.From, run.To, data, order, batch);
    }
}
