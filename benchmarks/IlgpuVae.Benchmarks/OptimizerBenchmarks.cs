using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;

namespace IlgpuVae.Benchmarks;

/// <summary>
/// One Adam step over the parameters of the 784-400-20-400-784 VAE (648,824 of them): "fastest" is the CPU
/// accelerator's vector kernel, "portable" the GPU's scalar kernel run on the CPU accelerator. "Mparams/s"
/// counts parameters updated per second.
/// </summary>
[Config(typeof(Config))]
public class OptimizerBenchmarks
{
    sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new ThroughputColumn("Mparams/s", _ => Parameters, 1e6));
    }

    const int Parameters = 784 * 400 + 400 + 400 * 40 + 40 + 20 * 400 + 400 + 400 * 784 + 784;

    ComputeDevice device = null!;
    MemoryBuffer1D<float, ILGPU.Stride1D.Dense> theta = null!, gradients = null!, m = null!, v = null!;
    MemoryBuffer1D<int, ILGPU.Stride1D.Dense> faults = null!;

    [Params("fastest", "portable")] public string Kernels { get; set; } = "fastest";

    [GlobalSetup]
    public void Setup()
    {
        device = ComputeDevice.Open("cpu", Kernels == "portable" ? KernelChoice.Portable : KernelChoice.Fastest);
        var a = device.Accelerator;
        theta = a.Allocate1D<float>(Parameters); gradients = a.Allocate1D<float>(Parameters);
        m = a.Allocate1D<float>(Parameters); v = a.Allocate1D<float>(Parameters);
        faults = a.Allocate1D<int>(1);
        device.Kernels.FillNormal(1, Parameters, theta.View);
        device.Kernels.FillNormal(2, Parameters, gradients.View);
        m.MemSetToZero(); v.MemSetToZero(); faults.MemSetToZero();
        device.Synchronize();
    }

    [Benchmark]
    public void Adam()
    {
        device.Kernels.Adam(new AdamStep
        {
            LearningRate = 1e-3f, Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f, BiasCorrection1 = 0.1f, BiasCorrection2 = 0.001f,
        }, theta.View, gradients.View, m.View, v.View, faults.View);
        device.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        theta.Dispose(); gradients.Dispose(); m.Dispose(); v.Dispose(); faults.Dispose();
        device.Dispose();
    }
}
