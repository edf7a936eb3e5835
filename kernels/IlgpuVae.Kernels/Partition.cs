namespace IlgpuVae.Kernels;

/// <summary>
/// How a grid-stride launch deals <see cref="Length"/> items to its <see cref="Threads"/> threads: in runs of
/// <see cref="Chunk"/> consecutive items, round-robin. A GPU wants runs of one (neighbouring threads touch
/// neighbouring items, so their loads coalesce); the CPU accelerator wants one long run per hardware thread,
/// because two cores writing into the same cache line take it from each other on every write. A kernel walks
/// its share as
/// <code>for (int run = s.Start(thread); run &lt; s.Length; run = s.Next(run))
///     for (int i = run; i &lt; s.End(run); i++) ...</code>
/// </summary>
public struct Partition
{
    /// <summary>Items in all, threads of the launch, and items per run.</summary>
    public int Length, Threads, Chunk;

    /// <summary>The first item of <paramref name="thread"/>'s first run.</summary>
    public readonly int Start(int thread) => thread * Chunk;

    /// <summary>The first item of the same thread's next run.</summary>
    public readonly int Next(int run) => run + Threads * Chunk;

    /// <summary>
    /// Items [from, to) of <paramref name="length"/> for thread <paramref name="thread"/> of <paramref name="threads"/>:
    /// one contiguous band each, the sizes differing by at most one (the CPU accelerator's banded kernels).
    /// </summary>
    public static (int From, int To) Band(int thread, int threads, int length) =>
        ((int)((long)length * thread / threads), (int)((long)length * (thread + 1) / threads));

    /// <summary>One past the last item of the run starting at <paramref name="run"/>.</summary>
    public readonly int End(int run) => run + Chunk < Length ? run + Chunk : Length;
}
