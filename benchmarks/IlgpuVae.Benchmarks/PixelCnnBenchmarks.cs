using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using IlgpuVae.Benchmarking;
using IlgpuVae.Compute;

namespace IlgpuVae.Benchmarks;

/// <summary>
/// A PixelCNN decoder's layers at the PyTorch peer's shape (scripts/pytorch_pixelcnn_peer.py: 28×28 grey, a 7×7
/// type-A masked conv to 32 channels, four 5×5 type-B ones, the 1×1 to logits, each conditioned on a 20-wide z),
/// batch 128, on the CPU accelerator's kernels: the forward alone, and a training step's share of the decoder —
/// forward, the likelihood's gradient, and the backward to every parameter and to z (<see cref="PixelCnnStackRig"/>).
/// "images/s" is the batch over the median time. <c>-- profile-pixelcnn</c> prints where the time goes instead.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class PixelCnnBenchmarks
{
    sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new ThroughputColumn("images/s", c => ThroughputColumn.Param(c, nameof(Batch)), 1));
    }

    ComputeDevice device = null!;
    PixelCnnStackRig rig = null!;

    [Params("cpu")] public string Device { get; set; } = "cpu";
    [Params(128)] public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        device = ComputeDevice.Open(Device);
        rig = new PixelCnnStackRig(device, PixelCnnStackRig.Peer, PixelCnnStackRig.PeerLatent, Batch);
    }

    [Benchmark]
    public void Forward()
    {
        rig.Forward();
        device.Synchronize();
    }

    [Benchmark]
    public void ForwardBackward() => rig.Step();

    [GlobalCleanup]
    public void Cleanup()
    {
        rig.Dispose();
        device.Dispose();
    }

    /// <summary>
    /// The step's kernels, each launch waited for (<see cref="KernelProfile"/>), then the median of unprofiled steps:
    /// <c>profile-pixelcnn [steps] [batch]</c>.
    /// </summary>
    public static void Profile(string[] args)
    {
        int steps = args.Length > 1 ? int.Parse(args[1]) : 5, batch = args.Length > 2 ? int.Parse(args[2]) : 128;
        using var device = ComputeDevice.Open("cpu");
        using var rig = new PixelCnnStackRig(device, PixelCnnStackRig.Peer, PixelCnnStackRig.PeerLatent, batch);
        foreach (var line in KernelProfile.Table(rig.Profile(steps), "step")) Console.WriteLine(line);
        var times = new double[steps];
        for (int s = 0; s < steps; s++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            rig.Step();
            times[s] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        Console.WriteLine($"  unprofiled steps: median {times[steps / 2]:F1} ms ({times[0]:F1}–{times[^1]:F1}), {batch / times[steps / 2] * 1000:F1} images/s");
    }
}
