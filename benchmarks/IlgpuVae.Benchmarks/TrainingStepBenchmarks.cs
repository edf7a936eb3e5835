using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using IlgpuVae.Compute;

namespace IlgpuVae.Benchmarks;

/// <summary>
/// One whole training step of the 784-400-20-400-784 VAE (gather, noise, forward, loss, backward, Adam) on a
/// device-resident data set. "images/s" is the batch over the median step time; the MemoryDiagnoser column
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
    VaeModel model = null!;
    Optimizer optimizer = null!;
    DeviceDataSet data = null!;
    Trainer trainer = null!;
    int start;

    [Params("cpu")] public string Device { get; set; } = "cpu";
    [Params(128)] public int Batch { get; set; }
    [Params("vae", "infovae")] public string Preset { get; set; } = "vae";

    [GlobalSetup]
    public void Setup()
    {
        device = ComputeDevice.Open(Device);
        const int count = 4096, dim = 784;
        var random = new Random(1);
        var pixels = new float[count * dim];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)random.NextDouble();
        model = new VaeModel(device, ModelSpec.PyTorchExample(), Batch);
        model.Initialize(1);
        optimizer = new Optimizer(device, new OptimizerSpec(), model.Layout.Count);
        data = new DeviceDataSet(device, pixels, count, dim);
        trainer = new Trainer(model, optimizer, ObjectiveSpec.Preset(Preset, 20), Batch, 1, binarize: false);
    }

    [Benchmark]
    public LossTerms Step()
    {
        var terms = trainer.Step(data, start, Batch);
        start = (start + Batch) % (data.Count - Batch);
        return terms;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        data.Dispose(); optimizer.Dispose(); model.Dispose(); device.Dispose();
    }
}
