using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using IlgpuVae.Data;
using IlgpuVae.Kernels;
using IlgpuVae.Training;

namespace IlgpuVae.Runs;

/// <summary>What the processes of a data-parallel job (MPI) check and share before they train together.</summary>
internal static class ProcessChecks
{
    /// <summary>
    /// Refuses to start unless every process holds the same configuration and data: each hashes its resolved
    /// config.json text and its images, and process 0 compares the hashes. Only process 0 throws; the others go on to
    /// the next collective, where process 0's abort ends them, so the job prints one message.
    /// </summary>
    public static void CheckSameRun(IProcessLink link, RunConfig config, ImageSet train, ImageSet test)
    {
        var hashes = link.AllGather(Hash(config, train, test));
        int other = Array.FindIndex(hashes, h => h != hashes[0]);
        if (other >= 0 && link.Rank == 0)
            throw new ArgumentException(
                $"Process {other} holds another configuration or data set than process 0 (hash {hashes[other]:x16}, not {hashes[0]:x16}); " +
                "start every process with the same options and the same data.");
    }

    static ulong Hash(RunConfig config, ImageSet train, ImageSet test)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(config.ToJson()));
        foreach (var set in new[] { train, test })
        {
            sha.AppendData(BitConverter.GetBytes(set.Count));
            sha.AppendData(MemoryMarshal.AsBytes(set.Pixels.AsSpan()));
        }
        return BitConverter.ToUInt64(sha.GetHashAndReset(), 0);
    }

    /// <summary>
    /// The device this process opens for <paramref name="spec"/>: under MPI a kind without an index (cuda, opencl)
    /// means the one at this process's rank on its node, so the processes of one machine take one GPU each.
    /// </summary>
    public static string DeviceOf(string spec, IProcessLink link) =>
        link.Size > 1 && spec.Trim().ToLowerInvariant() is "cuda" or "opencl" ? $"{spec.Trim()}:{link.LocalRank}" : spec;

    /// <summary>
    /// Process 0's progress (completed epochs; where an interrupted epoch stopped) in every process, so all resume at the
    /// same step; the running sums stay with process 0, which alone reports them.
    /// </summary>
    public static (int Done, EpochProgress? Partial) ShareProgress(IProcessLink link, int done, EpochProgress? partial)
    {
        if (link.Size == 1) return (done, partial);
        done = (int)link.Broadcast(done);
        long batch = link.Broadcast(partial?.Batch ?? -1), seen = link.Broadcast(partial?.Seen ?? 0);
        if (link.Rank == 0) return (done, partial);
        return (done, batch < 0 ? null : new EpochProgress((int)batch, (int)seen, new double[Term.Summed], 0));
    }
}
