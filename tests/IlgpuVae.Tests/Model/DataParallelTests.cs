using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Kernels;
using IlgpuVae.Model;
using IlgpuVae.Tests.Infrastructure;
using IlgpuVae.Training;
using Xunit.Abstractions;

namespace IlgpuVae.Tests.Model;

/// <summary>Three CPU accelerators opened once, as --replicas cpu:0,cpu:1,cpu:2 opens them.</summary>
public sealed class ReplicaDevicesFixture : IDisposable
{
    internal ComputeDevice[] Devices { get; } =
        Enumerable.Range(0, 3).Select(i => ComputeDevice.OpenCpuReplica(i, 3, KernelChoice.Fastest)).ToArray();

    public void Dispose()
    {
        foreach (var d in Devices) d.Dispose();
    }
}

/// <summary>
/// Data-parallel training on CPU accelerators against one device on the same global batches: the same draws for
/// every row (ε, prior samples, binarization), the MMD over every pair of the global batch, gradients summed in
/// replica order. Only the order of the float sums over the batch differs (each replica sums its shard, then the
/// shards are added), so after 10 Adam steps the weights agree within <see cref="Tolerance"/>, norm-wise; the
/// per-epoch loss terms within <see cref="TermsTolerance"/>. Two replica runs agree bit for bit.
/// </summary>
public sealed class DataParallelTests(ReplicaDevicesFixture replicas, ITestOutputHelper log) : IClassFixture<ReplicaDevicesFixture>
{
    /// <summary>‖θ_replicas − θ_one‖ / ‖θ_one‖ after <see cref="Epochs"/> epochs of Adam at lr 1e-2.</summary>
    public const double Tolerance = 1e-6;

    /// <summary>|a − b| / max(|b|, 1) of every epoch's mean train terms.</summary>
    public const double TermsTolerance = 1e-6;

    // 98 rows in batches of 24: four full batches and a last one of 2 rows (one per replica of two; 1, 1 and none of three).
    const int Dim = 64, Rows = 98, Batch = 24, Epochs = 2;

    public sealed record Case(string Name, string Preset, bool Binarize, bool Flow)
    {
        internal ModelSpec Spec => new(Dim, [16], 3, [16], Activation.Tanh, Flow: Flow ? new FlowSpec(1, [8], 4) : null);
        public override string ToString() => Name;
    }

    public static TheoryData<Case> Cases() => new()
    {
        new Case("vae", "vae", Binarize: false, Flow: false),
        new Case("infovae, dynamic binarization", "infovae", Binarize: true, Flow: false),
        new Case("infovae, IAF posterior", "infovae", Binarize: false, Flow: true),
    };

    static readonly float[] Pixels = MakePixels();

    static float[] MakePixels()
    {
        var random = new Random(7);
        var prototypes = Enumerable.Range(0, 4).Select(_ => Enumerable.Range(0, Dim).Select(_ => random.NextSingle()).ToArray()).ToArray();
        var data = new float[Rows * Dim];
        for (int r = 0; r < Rows; r++)
            for (int i = 0; i < Dim; i++)
                data[r * Dim + i] = Math.Clamp(prototypes[r % 4][i] + 0.1f * (random.NextSingle() - 0.5f), 0f, 1f);
        return data;
    }

    /// <summary>Two epochs on <paramref name="devices"/> (one: a plain trainer; more: a replica group); the weights and each epoch's terms.</summary>
    internal static (float[] Weights, LossTerms[] Terms) Train(IReadOnlyList<ComputeDevice> devices, Case c)
    {
        var objective = ObjectiveSpec.Preset(c.Preset, c.Spec.LatentDim);
        var first = devices[0];
        using var rig = new TrainingRig(first, c.Spec, Pixels, Batch, objective, initSeed: 5, binarize: c.Binarize, group: devices.Count > 1
            ? r => new ReplicaGroup(new Replica(first, r.Model, r.Optimizer, r.Data), devices.Skip(1).ToList(), Pixels, Batch,
                objective.PriorCount(Batch), r.OptimizerSpec, SingleProcess.Instance)
            : null);
        var terms = Enumerable.Range(0, Epochs).Select(_ => rig.Epoch().Terms).ToArray();
        return (DeviceArrays.Download(rig.Model.Parameters), terms);
    }

    void AssertMatches((float[] Weights, LossTerms[] Terms) parallel, (float[] Weights, LossTerms[] Terms) one, string what)
    {
        double diff = 0, norm = 0, maxAbs = 0;
        for (int i = 0; i < one.Weights.Length; i++)
        {
            double d = parallel.Weights[i] - (double)one.Weights[i];
            (diff, norm, maxAbs) = (diff + d * d, norm + (double)one.Weights[i] * one.Weights[i], Math.Max(maxAbs, Math.Abs(d)));
        }
        double relative = Math.Sqrt(diff / norm);
        log.WriteLine($"{what}: ‖Δθ‖/‖θ‖ = {relative:E2}, max |Δθ| = {maxAbs:E2} over {one.Weights.Length} weights");
        Assert.True(relative <= Tolerance, $"{what}: the weights differ by {relative:E2} norm-wise (max |Δθ| {maxAbs:E2}); the tolerance is {Tolerance:E0}.");
        for (int e = 0; e < Epochs; e++)
            foreach (var (name, a, b) in new[] { ("recon", parallel.Terms[e].Recon, one.Terms[e].Recon), ("kl", parallel.Terms[e].Kl, one.Terms[e].Kl),
                         ("mmd", parallel.Terms[e].Mmd, one.Terms[e].Mmd), ("loss", parallel.Terms[e].Loss, one.Terms[e].Loss) })
                Assert.True(Math.Abs(a - b) <= TermsTolerance * Math.Max(Math.Abs(b), 1), $"{what}: epoch {e + 1}'s {name} is {a} on the replicas, {b} on one device.");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TwoReplicasMatchOneDeviceOnTheSameGlobalBatch(Case c) =>
        AssertMatches(Train(replicas.Devices[..2], c), Train([TestDevices.Get("cpu")], c), $"2 replicas, {c}");

    [Fact]
    public void ThreeReplicasWithAnEmptyShardMatchOneDevice()
    {
        var infovae = new Case("infovae", "infovae", Binarize: false, Flow: false);
        AssertMatches(Train(replicas.Devices, infovae), Train([TestDevices.Get("cpu")], infovae), "3 replicas (the last batch's third shard empty), infovae");
    }

    [Fact]
    public void ReplicaRunsRepeatBitForBit()
    {
        var c = new Case("infovae, dynamic binarization", "infovae", Binarize: true, Flow: false);
        var (a, aTerms) = Train(replicas.Devices[..2], c);
        var (b, bTerms) = Train(replicas.Devices[..2], c);
        Assert.Equal(a, b);
        Assert.Equal(aTerms, bTerms);
    }

    [Theory]
    [InlineData(7, 2)]
    [InlineData(2, 3)]
    [InlineData(128, 3)]
    [InlineData(5, 5)]
    public void ShardsCoverTheBatchInOrderLargestFirst(int rows, int count)
    {
        var shards = Enumerable.Range(0, count).Select(r => Shard.Of(r, count, rows)).ToList();
        Assert.Equal(rows, shards.Sum(s => s.Rows));
        for (int r = 1; r < count; r++)
        {
            Assert.Equal(shards[r - 1].Offset + shards[r - 1].Rows, shards[r].Offset);
            Assert.InRange(shards[r - 1].Rows - shards[r].Rows, 0, 1);
        }
        Assert.True(shards[0].HoldsFirstRow);
        Assert.All(shards, s => Assert.Equal(rows, s.Global));
    }
}
