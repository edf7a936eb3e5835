using System.Reflection;
using System.Runtime.InteropServices;
using IlgpuVae.Training;

namespace IlgpuVae.Cli;

/// <summary>
/// The processes of <c>mpiexec -n N IlgpuVae.Cli train …</c>, through MPICH's C library (libmpich.so.12, Debian's
/// <c>mpich</c>) called directly: the collectives data-parallel training needs, in place on the caller's arrays,
/// so a step allocates nothing. Handles and datatypes are MPICH's ABI constants (mpi.h), which MS-MPI shares; Open MPI
/// has another ABI and is refused by name. <see cref="FromEnvironment"/> starts MPI only when the process manager
/// says there is more than one process (PMI_SIZE, set by MPICH's Hydra).
/// </summary>
sealed class MpiLink : IProcessLink, IDisposable
{
    const string Library = "mpich";
    // mpi.h (MPICH): MPI_COMM_WORLD, MPI_FLOAT, MPI_DOUBLE, MPI_LONG_LONG_INT, MPI_UNSIGNED_LONG_LONG; MPI_IN_PLACE is (void*)-1.
    const int World = 0x44000000, Float = 0x4c00040a, Double = 0x4c00080b, Int64 = 0x4c000809, UInt64 = 0x4c000819;
    static readonly IntPtr InPlace = new(-1);

    static MpiLink() => NativeLibrary.SetDllImportResolver(typeof(MpiLink).Assembly, Resolve);

    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library) return IntPtr.Zero;
        string[] candidates = [Environment.GetEnvironmentVariable("ILGPUVAE_MPI_LIBRARY") ?? "", "libmpich.so.12", "libmpich.so"];
        foreach (var candidate in candidates)
            if (candidate.Length > 0 && NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
        throw new DllNotFoundException(
            "Started by mpiexec, but MPICH's library (libmpich.so.12) was not found. Install MPICH (apt-get install mpich) " +
            "or name the library in ILGPUVAE_MPI_LIBRARY.");
    }

    public int Rank { get; }
    public int Size { get; }
    public int LocalRank { get; }

    MpiLink()
    {
        Check(MPI_Init(IntPtr.Zero, IntPtr.Zero), "MPI_Init");
        Check(MPI_Comm_rank(World, out int rank), "MPI_Comm_rank");
        Check(MPI_Comm_size(World, out int size), "MPI_Comm_size");
        (Rank, Size) = (rank, size);
        LocalRank = int.TryParse(Environment.GetEnvironmentVariable("MPI_LOCALRANKID"), out int local) ? local : rank;
    }

    /// <summary>The job this process belongs to, or null when it runs alone (no mpiexec, or mpiexec -n 1).</summary>
    public static MpiLink? FromEnvironment()
    {
        if (Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is { } openMpi && openMpi != "1")
            throw new ArgumentException("This job was started by Open MPI's mpiexec; IlgpuVae speaks MPICH's ABI. Install MPICH (apt-get install mpich) and start it with its mpiexec.");
        return int.TryParse(Environment.GetEnvironmentVariable("PMI_SIZE"), out int size) && size > 1 ? new MpiLink() : null;
    }

    public void AllGather(float[] values, int[] counts, int[] offsets) =>
        Check(MPI_Allgatherv(InPlace, 0, Float, values, counts, offsets, Float, World), "MPI_Allgatherv");

    public void GatherToFirst(double[] values, int[] counts, int[] offsets)
    {
        if (Rank == 0)
        {
            Check(MPI_Gatherv(InPlace, 0, Double, values, counts, offsets, Double, 0, World), "MPI_Gatherv");
            return;
        }
        // MPI_IN_PLACE is for the root only; a process without rows in this batch sends nothing from anywhere.
        ref double own = ref (counts[Rank] == 0 ? ref values[0] : ref values[offsets[Rank]]);
        Check(MPI_Gatherv(ref own, counts[Rank], Double, null, counts, offsets, Double, 0, World), "MPI_Gatherv");
    }

    public void Broadcast(float[] values) => Check(MPI_Bcast(values, values.Length, Float, 0, World), "MPI_Bcast");

    public long Broadcast(long value)
    {
        Check(MPI_Bcast(ref value, 1, Int64, 0, World), "MPI_Bcast");
        return value;
    }

    public ulong[] AllGather(ulong value)
    {
        var all = new ulong[Size];
        Check(MPI_Allgather(ref value, 1, UInt64, all, 1, UInt64, World), "MPI_Allgather");
        return all;
    }

    /// <summary>
    /// Reports <paramref name="e"/> as this process's failure — one line naming the process and the cause — and ends every
    /// process of the job (MPI_Abort) with exit code 1 for a user's or a device's error, 70 for a bug. Does not return.
    /// A process other than 0 waits a moment first: when every process meets the same error (a bad option), process 0's
    /// abort ends it before it prints, so the job says it once.
    /// </summary>
    public void Fail(Exception e, TextWriter error)
    {
        if (Rank != 0) Thread.Sleep(TimeSpan.FromSeconds(1));
        int code = Errors.IsUserError(e) ? Errors.UserError : Errors.InternalError;
        string cause = code == Errors.UserError || e is InternalFaultException ? e.Message : e.ToString();
        error.WriteLine(Errors.Line($"process {Rank} of {Size}: {cause}"));
        error.Flush();
        // Hydra forwards a process's output through its proxy as it comes; MPI_Abort tears the proxies down and
        // drops what they have not forwarded yet (seen under load: the whole message lost). Give it a moment.
        Thread.Sleep(TimeSpan.FromMilliseconds(300));
        _ = MPI_Abort(World, code); // should it return at all, the exit below ends this process with the same code
        Environment.Exit(code);
    }

    public void Dispose() => _ = MPI_Finalize(); // the last call of the process: a failure has nothing left to affect

    static void Check(int result, string call)
    {
        if (result != 0) throw new InvalidOperationException($"{call} failed with MPI error {result}.");
    }

    [DllImport(Library)] static extern int MPI_Init(IntPtr argc, IntPtr argv);
    [DllImport(Library)] static extern int MPI_Finalize();
    [DllImport(Library)] static extern int MPI_Abort(int comm, int code);
    [DllImport(Library)] static extern int MPI_Comm_rank(int comm, out int rank);
    [DllImport(Library)] static extern int MPI_Comm_size(int comm, out int size);
    [DllImport(Library)] static extern int MPI_Allgatherv(IntPtr send, int sendCount, int sendType, float[] receive, int[] counts, int[] offsets, int receiveType, int comm);
    [DllImport(Library)] static extern int MPI_Allgather(ref ulong send, int sendCount, int sendType, ulong[] receive, int receiveCount, int receiveType, int comm);
    [DllImport(Library)] static extern int MPI_Gatherv(IntPtr send, int sendCount, int sendType, double[] receive, int[] counts, int[] offsets, int receiveType, int root, int comm);
    [DllImport(Library)] static extern int MPI_Gatherv(ref double send, int sendCount, int sendType, double[]? receive, int[] counts, int[] offsets, int receiveType, int root, int comm);
    [DllImport(Library)] static extern int MPI_Bcast(float[] buffer, int count, int type, int root, int comm);
    [DllImport(Library)] static extern int MPI_Bcast(ref long buffer, int count, int type, int root, int comm);
}
