namespace IlgpuVae.Disentanglement;

/// <summary>
/// Uniform integers from SplitMix64, keyed by a seed: the same draws on every .NET version and machine (the algorithm
/// of <see cref="Random"/> is not promised across versions), so a score repeats for a seed.
/// </summary>
internal sealed class SeededDraws(ulong seed)
{
    ulong state = seed;

    /// <summary>A uniform integer in [0, n); the modulo bias is below 2⁻⁵⁰ for the sizes used here.</summary>
    public int Next(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)((z ^ (z >> 31)) % (ulong)n);
    }

    /// <summary>A permutation of 0 … n − 1 (Fisher–Yates).</summary>
    public int[] Permutation(int n)
    {
        var order = Enumerable.Range(0, n).ToArray();
        for (int i = n - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
