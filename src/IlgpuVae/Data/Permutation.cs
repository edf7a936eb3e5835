namespace IlgpuVae.Data;

/// <summary>
/// The one shuffle of the data: a Fisher–Yates permutation of 0 … n − 1 whose draw for position i, an index in
/// [0, i], comes from <c>pick</c>. Each caller keeps its own source of draws — an epoch's order is keyed by
/// (seed, epoch) with the counter-based generator, a folder's train/test split by the seed through SplitMix64 — so
/// the orders saved runs were trained on stay as they were.
/// </summary>
internal static class Permutation
{
    /// <summary>Fills <paramref name="order"/> with a permutation of 0 … order.Length − 1.</summary>
    public static void Shuffle(int[] order, Func<int, int> pick)
    {
        for (int i = 0; i < order.Length; i++) order[i] = i;
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = pick(i);
            (order[i], order[j]) = (order[j], order[i]);
        }
    }
}
