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
    public int Length, Threads, Chunk;

    public readonly int Start(int thread) => thread * Chunk;

    public readonly int Next(int run) => run + Threads * Chunk;

    public readonly int End(int run) => run + Chunk < Length ? run + Chunk : Length;
}
