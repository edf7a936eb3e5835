using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>Which rows to gather, and how.</summary>
public struct GatherProblem
{
    /// <summary>Batch rows, values per row, first position in the order list.</summary>
    public int Rows, Dim, Start;
    /// <summary>1: draw x ~ Bernoulli(p) per pixel with <see cref="Key"/>; 0: copy p.</summary>
    public int Binarize;
    public ulong Key;
    /// <summary>The Rows·Dim batch elements among the launch's threads.</summary>
    public Shares Elements;
}

/// <summary>
/// Assembling a batch on the device from the data set held there: rows are gathered through a shuffled
/// index list, and optionally binarized by a fresh Bernoulli draw per pixel (dynamic binarization).
/// </summary>
public static class Batches
{
    /// <summary>
    /// batch[r, i] = data[order[start + r], i], or, when <paramref name="binarize"/> is 1, a Bernoulli draw
    /// with that probability (key decides the draw; a new key every epoch gives a new binarization).
    /// Grid-stride over the batch's elements.
    /// </summary>
    public static void Gather(Index1D thread, GatherProblem g,
        ArrayView<float> data, ArrayView<int> order, ArrayView<float> batch)
    {
        var s = g.Elements;
        for (int run = s.Start(thread); run < s.Length; run = s.Next(run))
            for (int e = run; e < s.End(run); e++)
            {
                int r = e / g.Dim, i = e - r * g.Dim;
                long source = (long)order[g.Start + r] * g.Dim + i;
                float p = data[source];
                batch[e] = g.Binarize != 0 ? (CounterRng.Uniform(g.Key, source) < p ? 1f : 0f) : p;
            }
    }
}
