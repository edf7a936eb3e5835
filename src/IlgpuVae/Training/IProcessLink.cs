namespace IlgpuVae.Training;

/// <summary>
/// The processes of a data-parallel job as the replica group needs them (MPI under <c>mpiexec</c>; one process
/// alone is <see cref="SingleProcess"/>). Every process calls every collective in the same order. Arrays are
/// exchanged in place: process p's part of <c>values</c> is [offsets[p], offsets[p] + counts[p]).
/// </summary>
internal interface IProcessLink
{
    /// <summary>This process's index, 0 for the one that writes the run folder.</summary>
    int Rank { get; }

    /// <summary>Processes in the job.</summary>
    int Size { get; }

    /// <summary>This process's index among those on its machine (which GPU it takes).</summary>
    int LocalRank { get; }

    /// <summary>Every process's part ends up in every process.</summary>
    void AllGather(float[] values, int[] counts, int[] offsets);

    /// <summary>Every process's part ends up in process 0 (the others' arrays keep what they held).</summary>
    void GatherToFirst(double[] values, int[] counts, int[] offsets);

    /// <summary>Process 0's <paramref name="values"/> in every process.</summary>
    void Broadcast(float[] values);

    /// <summary>Process 0's <paramref name="value"/>, returned in every process.</summary>
    long Broadcast(long value);

    /// <summary>Every process's <paramref name="value"/>, in rank order.</summary>
    ulong[] AllGather(ulong value);
}

/// <summary>One process: every collective is a no-op.</summary>
internal sealed class SingleProcess : IProcessLink
{
    /// <summary>The one instance.</summary>
    public static readonly SingleProcess Instance = new();

    SingleProcess() { }

    public int Rank => 0;
    public int Size => 1;
    public int LocalRank => 0;
    public void AllGather(float[] values, int[] counts, int[] offsets) { }
    public void GatherToFirst(double[] values, int[] counts, int[] offsets) { }
    public void Broadcast(float[] values) { }
    public long Broadcast(long value) => value;
    public ulong[] AllGather(ulong value) => [value];
}
