namespace IlgpuVae.Model;

/// <summary>
/// Rows [Offset, Offset + Rows) of a global batch of <see cref="Global"/> rows: what one data-parallel replica
/// computes. Every per-row scale (1/B of the means, the MMD's divisors) uses <see cref="Global"/>, and every draw
/// uses the rows' own counters, so the shards of a batch together compute what one device computes for it.
/// </summary>
internal readonly record struct Shard(int Offset, int Rows, int Global)
{
    /// <summary>The whole batch on one device.</summary>
    public static Shard Whole(int rows) => new(0, rows, rows);

    /// <summary>
    /// Replica <paramref name="replica"/>'s contiguous share of <paramref name="rows"/> rows split <paramref name="replicas"/>
    /// ways: sizes differ by at most one, the larger ones first — so replica 0 always holds row 0 (and computes the
    /// MMD's prior rows), and only trailing replicas of a batch smaller than the group are empty.
    /// </summary>
    public static Shard Of(int replica, int replicas, int rows)
    {
        if (replicas <= 0 || replica < 0 || replica >= replicas || rows < 0)
            throw new InternalFaultException($"Shard {replica} of {replicas} of a batch of {rows} rows.");
        int size = rows / replicas, extra = rows % replicas;
        int offset = replica * size + Math.Min(replica, extra);
        return new Shard(offset, size + (replica < extra ? 1 : 0), rows);
    }

    /// <summary>Whether this shard holds row 0 of the batch, and so computes the MMD's prior-against-prior rows.</summary>
    public bool HoldsFirstRow => Offset == 0 && Rows > 0;
}
