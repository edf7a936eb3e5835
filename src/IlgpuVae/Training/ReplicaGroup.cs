using System.Diagnostics;
using System.Numerics;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Model;

namespace IlgpuVae.Training;

/// <summary>
/// Data-parallel training over replicas — several devices in this process, and the replicas of the other processes
/// of an MPI job through <see cref="IProcessLink"/>. Replica r (numbered across processes, this process's first being
/// Rank × its replicas in each process) computes the contiguous shard <see cref="Shard.Of"/> of each global batch, with the
/// rows' own draws and every scale over the global batch. Per step: the codes are gathered so that each replica
/// computes the MMD² over every pair of the global batch (and the gradient of its own codes); the gradients are
/// summed in replica order — the same float additions every time and everywhere, so a run repeats bit for bit and
/// every replica takes the identical optimizer step; the row terms of the loss are gathered into replica 0, which
/// reduces them as one device would. The exchanges go through host memory. The step itself is the trainer's
/// (<see cref="Trainer.Step"/>); the group is where it runs and exchanges (<see cref="IStepReplicas"/>).
/// </summary>
internal sealed class ReplicaGroup : IStepReplicas, IDisposable
{
    readonly Replica[] local;
    readonly IProcessLink link;
    readonly int replicas, latent, parameters;
    readonly float[] codes, gradients, sum;
    readonly double[] nll, kl, mmd;
    readonly int[] gradientCounts, gradientOffsets, counts, offsets, scaledCounts, scaledOffsets;
    readonly Stopwatch exchange = new();
    readonly Action<int> downloadCodes, uploadCodes, downloadResults, uploadSum;
    // The step's batch and whether it has an MMD, read by the per-replica actions above (fields, so that a step allocates no closures).
    int rows;
    bool withMmd;

    /// <summary>
    /// A group of <paramref name="own"/> (the trainer's replica, owned by its caller) and a replica on each of
    /// <paramref name="others"/> (this process's other devices; the group allocates and frees their model, optimizer
    /// and data, not the devices), each a copy of <paramref name="own"/>'s model for batches of <paramref name="batchSize"/>
    /// with its own copy of the training images <paramref name="trainPixels"/> (those <paramref name="own"/> holds).
    /// </summary>
    public ReplicaGroup(Replica own, IReadOnlyList<ComputeDevice> others, float[] trainPixels, int batchSize, int priorCount,
        OptimizerSpec optimizer, IProcessLink link)
    {
        this.link = link;
        var list = new List<Replica> { own };
        try
        {
            foreach (var device in others)
            {
                var model = new VaeModel(device, own.Model.Spec, batchSize, priorCount);
                list.Add(new Replica(device, model, new Optimizer(device, optimizer, model.Layout.Count),
                    new DeviceDataSet(device, trainPixels, own.Data.Count, own.Data.Dim)));
            }
        }
        catch
        {
            foreach (var r in list.Skip(1)) Free(r);
            throw;
        }
        local = list.ToArray();
        replicas = local.Length * link.Size;
        latent = own.Model.Spec.LatentDim;
        parameters = own.Model.Layout.Count;
        codes = new float[(long)batchSize * latent];
        gradients = new float[(long)replicas * parameters];
        sum = new float[parameters];
        (nll, kl, mmd) = (new double[batchSize], new double[(long)batchSize * latent], new double[batchSize]);
        gradientCounts = Enumerable.Repeat(local.Length * parameters, link.Size).ToArray();
        gradientOffsets = Enumerable.Range(0, link.Size).Select(p => p * local.Length * parameters).ToArray();
        (counts, offsets, scaledCounts, scaledOffsets) = (new int[link.Size], new int[link.Size], new int[link.Size], new int[link.Size]);
        downloadCodes = DownloadCodes;
        uploadCodes = UploadCodes;
        downloadResults = DownloadResults;
        uploadSum = UploadSum;
    }

    public int Count => replicas;

    public int LocalCount => local.Length;

    public Replica this[int i] => local[i];

    public bool HoldsFirstReplica => link.Rank == 0;

    /// <summary>Time spent exchanging codes, gradients and row terms (and summing the gradients) since the last <see cref="TakeExchangeSeconds"/>.</summary>
    public double TakeExchangeSeconds()
    {
        double seconds = exchange.Elapsed.TotalSeconds;
        exchange.Reset();
        return seconds;
    }

    /// <summary>The device that threw during the last step, for the error message; null when none did.</summary>
    public ComputeDevice? FailedDevice { get; private set; }

    /// <summary>
    /// Every replica takes replica 0's parameters and optimizer state (just initialized or loaded from a checkpoint),
    /// so all start identical.
    /// </summary>
    public void Synchronize()
    {
        var own = local[0];
        var weights = new float[parameters];
        own.Model.Parameters.CopyToCPU(weights);
        var (steps, first, second) = own.Optimizer.SaveState();
        link.Broadcast(weights);
        link.Broadcast(first);
        link.Broadcast(second);
        steps = link.Broadcast(steps);
        for (int i = link.Rank == 0 ? 1 : 0; i < local.Length; i++)
        {
            using var binding = local[i].Device.Accelerator.BindScoped();
            local[i].Model.Parameters.CopyFromCPU(weights);
            local[i].Optimizer.LoadState(steps, first, second);
        }
    }

    public bool AgreeToContinue(bool goOn) => link.Broadcast(goOn ? 1 : 0) == 1;

    public Shard ShardOf(int localIndex, int rows) => Shard.Of(link.Rank * local.Length + localIndex, replicas, rows);

    public void ExchangeCodes(int rows, bool withMmd)
    {
        (this.rows, this.withMmd) = (rows, withMmd);
        if (!withMmd) return;
        exchange.Start();
        Run(downloadCodes);
        SetProcessRows(latent);
        link.AllGather(codes, scaledCounts, scaledOffsets);
        Run(uploadCodes);
        exchange.Stop();
    }

    public ArrayView<float> Codes(int i, bool withMmd) => withMmd ? local[i].Model.AllCodes : local[i].Model.Z;

    public void ExchangeGradients(int rows)
    {
        this.rows = rows;
        exchange.Start();
        Run(downloadResults);
        link.AllGather(gradients, gradientCounts, gradientOffsets);
        SumGradients();
        Run(uploadSum);
        exchange.Stop();
    }

    public void GatherRowTerms(int rows, bool withMmd)
    {
        (this.rows, this.withMmd) = (rows, withMmd);
        exchange.Start();
        GatherRowTerms();
        exchange.Stop();
    }

    /// <summary>
    /// <paramref name="action"/> for each replica of this process, in parallel (a CPU accelerator's launch runs on its
    /// caller's thread), each bound to its device and waited for; the first exception is rethrown as thrown, its device kept.
    /// </summary>
    public void ForEach(Action<int> action)
    {
        FailedDevice = null;
        Run(action, synchronize: true);
    }

    void DownloadCodes(int i)
    {
        var s = ShardOf(i, rows);
        if (s.Rows > 0) local[i].Model.Z.SubView(0, (long)s.Rows * latent).CopyToCPU(codes.AsSpan(s.Offset * latent, s.Rows * latent));
    }

    void UploadCodes(int i)
    {
        if (ShardOf(i, rows).Rows > 0) Upload(local[i].Model.AllCodes.SubView(0, (long)rows * latent), codes.AsSpan(0, rows * latent));
    }

    /// <summary>The replica's gradient, and — but for replica 0, which reduces them — its rows' loss terms.</summary>
    void DownloadResults(int i)
    {
        var (m, s) = (local[i].Model, ShardOf(i, rows));
        int replica = link.Rank * local.Length + i;
        if (s.Rows == 0) return;
        m.Gradients.CopyToCPU(gradients.AsSpan(replica * parameters, parameters));
        if (replica == 0) return;
        m.NllRows.SubView(0, s.Rows).CopyToCPU(nll.AsSpan(s.Offset, s.Rows));
        m.KlTerms.SubView(0, (long)s.Rows * latent).CopyToCPU(kl.AsSpan(s.Offset * latent, s.Rows * latent));
        if (withMmd) m.MmdRows.SubView(s.Offset, s.Rows).CopyToCPU(mmd.AsSpan(s.Offset, s.Rows));
    }

    /// <summary>sum = g₀ + g₁ + … in replica order, over the replicas that had rows: the same additions on every process.</summary>
    void SumGradients()
    {
        gradients.AsSpan(0, parameters).CopyTo(sum);
        for (int r = 1; r < replicas; r++)
            if (Shard.Of(r, replicas, rows).Rows > 0) Add(gradients.AsSpan(r * parameters, parameters), sum);
    }

    static void Add(ReadOnlySpan<float> values, Span<float> total)
    {
        var v = MemoryMarshal.Cast<float, Vector<float>>(values);
        var t = MemoryMarshal.Cast<float, Vector<float>>(total);
        for (int i = 0; i < t.Length; i++) t[i] += v[i];
        for (int i = t.Length * Vector<float>.Count; i < total.Length; i++) total[i] += values[i];
    }

    void UploadSum(int i) => local[i].Model.Gradients.CopyFromCPU(sum);

    /// <summary>The other replicas' nll, KL and MMD row terms into replica 0's buffers, where its own rows already are.</summary>
    void GatherRowTerms()
    {
        SetProcessRows(1);
        link.GatherToFirst(nll, counts, offsets);
        if (withMmd) link.GatherToFirst(mmd, counts, offsets);
        SetProcessRows(latent);
        link.GatherToFirst(kl, scaledCounts, scaledOffsets);
        if (link.Rank != 0) return;
        var m = local[0].Model;
        int first = Shard.Of(0, replicas, rows).Rows, rest = rows - first;
        if (rest == 0) return;
        Upload(m.NllRows.SubView(first, rest), nll.AsSpan(first, rest));
        Upload(m.KlTerms.SubView((long)first * latent, (long)rest * latent), kl.AsSpan(first * latent, rest * latent));
        if (withMmd) Upload(m.MmdRows.SubView(first, rest), mmd.AsSpan(first, rest));
    }

    /// <summary>Each process's rows of this batch (its replicas' shards are contiguous) as counts and offsets, times <paramref name="scale"/>.</summary>
    void SetProcessRows(int scale)
    {
        var (c, o) = scale == 1 ? (counts, offsets) : (scaledCounts, scaledOffsets);
        for (int p = 0; p < link.Size; p++)
        {
            var first = Shard.Of(p * local.Length, replicas, rows);
            var last = Shard.Of((p + 1) * local.Length - 1, replicas, rows);
            o[p] = first.Offset * scale;
            c[p] = (last.Offset + last.Rows - first.Offset) * scale;
        }
    }

    static void Upload<T>(ArrayView<T> view, ReadOnlySpan<T> values) where T : unmanaged => view.CopyFromCPU(values);

    /// <summary><paramref name="action"/> for each replica of this process, in parallel, each bound to its device (and waited for).</summary>
    void Run(Action<int> action, bool synchronize = false)
    {
        if (local.Length == 1)
        {
            RunOne(action, 0, synchronize);
            return;
        }
        try
        {
            Parallel.For(0, local.Length, i => RunOne(action, i, synchronize));
        }
        catch (AggregateException e)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    void RunOne(Action<int> action, int i, bool synchronize)
    {
        try
        {
            using var binding = local[i].Device.Accelerator.BindScoped();
            action(i);
            if (synchronize) local[i].Device.Synchronize();
        }
        catch
        {
            FailedDevice ??= local[i].Device;
            throw;
        }
    }

    static void Free(Replica r)
    {
        r.Data.Dispose();
        r.Optimizer.Dispose();
        r.Model.Dispose();
    }

    /// <summary>Frees the other replicas' model, optimizer and data (not the devices, nor the trainer's replica).</summary>
    public void Dispose()
    {
        foreach (var r in local.Skip(1)) Free(r);
    }
}
