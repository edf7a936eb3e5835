namespace IlgpuVae.Kernels;

/// <summary>
/// How a grid-stride launch deals <see cref="Length"/> items to its <see cref="Threads"/> threads: in runs of
/// <see cref="Chunk"/> consecutive items, round-robin. A GPU wants runs of one (neighbouring threads touch
/// neighbouring items, so their loads coalesce); the CPU accelerator wants one long run per hardware thread,
/// because two cores writing into the same cache line take it from each other on every write. A kernel walks
/// its share item by item, or run by run where it hands whole runs to row code:
/// <code>foreach (int i in s.Of(thread)) ...
/// foreach (var run in s.RunsOf(thread)) Rows(run.From, run.To, ...);</code>
/// Both are struct enumerators with no interface behind them: ILGPU compiles them as the loops they stand for.
/// </summary>
public struct Partition
{
    /// <summary>Items in all, threads of the launch, and items per run.</summary>
    public int Length, Threads, Chunk;

    /// <summary>The items <paramref name="thread"/> owns, in increasing order.</summary>
    public readonly PartitionItems Of(int thread) => new(this, thread);

    /// <summary>The runs <paramref name="thread"/> owns, in increasing order, each [From, To).</summary>
    public readonly PartitionRuns RunsOf(int thread) => new(this, thread);

    /// <summary>
    /// Items [from, to) of <paramref name="length"/> for thread <paramref name="thread"/> of <paramref name="threads"/>:
    /// one contiguous band each, the sizes differing by at most one (the CPU accelerator's banded kernels).
    /// </summary>
    public static (int From, int To) Band(int thread, int threads, int length) =>
        ((int)((long)length * thread / threads), (int)((long)length * (thread + 1) / threads));
}

/// <summary>Items [<see cref="From"/>, <see cref="To"/>): one run of a <see cref="Partition"/>.</summary>
public readonly struct ItemRun(int from, int to)
{
    /// <summary>The run's first item and one past its last.</summary>
    public readonly int From = from, To = to;
}

/// <summary>A thread's runs of a <see cref="Partition"/>, for <c>foreach</c>.</summary>
public struct PartitionRuns
{
    readonly int length, chunk, stride;
    int run;

    internal PartitionRuns(Partition s, int thread)
    {
        (length, chunk, stride) = (s.Length, s.Chunk, s.Threads * s.Chunk);
        run = thread * s.Chunk - stride;
    }

    /// <summary>Itself: the walk is its own enumerator.</summary>
    public readonly PartitionRuns GetEnumerator() => this;

    /// <summary>Moves to the thread's next run; false past the last.</summary>
    public bool MoveNext()
    {
        run += stride;
        return run < length;
    }

    /// <summary>The run, cut at the partition's end.</summary>
    public readonly ItemRun Current => new(run, run + chunk < length ? run + chunk : length);
}

/// <summary>A thread's items of a <see cref="Partition"/>, run after run, for <c>foreach</c>.</summary>
public struct PartitionItems
{
    readonly int length, chunk, stride;
    int run, end, item;

    internal PartitionItems(Partition s, int thread)
    {
        (length, chunk, stride) = (s.Length, s.Chunk, s.Threads * s.Chunk);
        run = thread * s.Chunk;
        end = run + chunk < length ? run + chunk : length;
        item = run - 1;
    }

    /// <summary>Itself: the walk is its own enumerator.</summary>
    public readonly PartitionItems GetEnumerator() => this;

    /// <summary>Moves to the thread's next item, into its next run at the end of one; false past the last.</summary>
    public bool MoveNext()
    {
        if (++item < end) return true;
        run += stride;
        end = run + chunk < length ? run + chunk : length;
        item = run;
        return run < length;
    }

    /// <summary>The item.</summary>
    public readonly int Current => item;
}
