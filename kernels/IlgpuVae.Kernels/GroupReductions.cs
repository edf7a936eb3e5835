using ILGPU;

namespace IlgpuVae.Kernels;

/// <summary>
/// Reductions across the threads of one group, in shared memory, for the explicitly grouped GPU kernels.
/// The tree is the same on every launch — thread t adds t + s for s = the largest power of two below the
/// group size, then halves s — so a sum has one fixed order and repeats bit for bit, unlike float atomics.
/// Every thread of the group must call them (they contain barriers) and every thread gets the result.
/// <c>scratch</c> is shared memory with one element per thread (<see cref="SharedScratch.ForReduction"/>).
/// </summary>
public static class GroupReductions
{
    /// <summary>The largest group that reduces: the scratch is allocated for it.</summary>
    public const int MaxGroup = 256;

    /// <summary>Σ over the group of <paramref name="value"/>.</summary>
    public static double Sum(double value, ArrayView<double> scratch)
    {
        int t = Group.IdxX, n = Group.DimX;
        scratch[t] = value;
        Group.Barrier();
        for (int s = FirstStride(n); s > 0; s >>= 1)
        {
            if (t < s && t + s < n) scratch[t] += scratch[t + s];
            Group.Barrier();
        }
        double result = scratch[0];
        Group.Barrier(); // everyone has read the result before scratch is used again
        return result;
    }

    /// <summary>The maximum over the group of <paramref name="value"/>.</summary>
    public static double Max(double value, ArrayView<double> scratch)
    {
        int t = Group.IdxX, n = Group.DimX;
        scratch[t] = value;
        Group.Barrier();
        for (int s = FirstStride(n); s > 0; s >>= 1)
        {
            if (t < s && t + s < n && scratch[t + s] > scratch[t]) scratch[t] = scratch[t + s];
            Group.Barrier();
        }
        double result = scratch[0];
        Group.Barrier();
        return result;
    }

    /// <summary>The largest power of two below n (1 for n ≤ 2): the first stride of the tree.</summary>
    static int FirstStride(int n)
    {
        int s = 1;
        while (2 * s < n) s *= 2;
        return s;
    }
}
