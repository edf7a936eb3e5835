using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using IlgpuVae.Benchmarking;
using IlgpuVae.Compute;
using IlgpuVae.Model;
using IlgpuVae.Training;

namespace IlgpuVae.Benchmarks;

/// <summary>
/// One whole training step of the 784-400-20-400-784 VAE (gather, noise, forward, loss, backward, Adam, the
/// loss terms reduced and read back a step late) on a device-resident data set, with the CPU accelerator's kernels. "images/s" is the batch over the median step time; the MemoryDiagnoser column
/// shows what a step allocates on the managed heap.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
    sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new ThroughputColumn("images/s", c => ThroughputColumn.Param(c, nameof(Batch)), 1));
    }

    ComputeDevice device = null!;
    StepRig rig = null!;
    EpochPass pass = null!;
    int batch;

    [Params("cpu")] public string Device { get; set; } = "cpu";
    [Params(128)] public int Batch { get; set; }
    [Params("vae", "infovae")] public string Preset { get; set; } = "vae";

    [GlobalSetup]
    public void Setup()
    {
        device = ComputeDevice.Open(Device);
        rig = new StepRig(device, ModelSpec.PyTorchExample(), Preset, Batch, rows: 4096);
        pass = rig.Trainer.BeginEpoch(rig.Data);
    }

    /// <summary>One step; the terms it returns are the previous step's, read while this one runs (as in training).</summary>
    [Benchmark]
    public LossTerms? Step()
    {
        var terms = rig.Trainer.Step(pass, batch);
        batch = (batch + 1) % pass.Batches;
        return terms?.Terms;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        rig.Dispose();
        device.Dispose();
    }
}
