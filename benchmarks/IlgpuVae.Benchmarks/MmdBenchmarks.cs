using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;

namespace IlgpuVae.Benchmarks;

/// <summary>
/// MMD² with its gradient between B codes and M = B prior draws, k = 20: (B + M)² kernel evaluations of
/// k-dimensional distances. "Mpairs/s" counts kernel evaluations per second.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class MmdBenchmarks
{
    sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new ThroughputColumn("Mpairs/s",
            c => Math.Pow(2.0 * ThroughputColumn.Param(c, nameof(Batch)), 2), 1e6));
    }

    ComputeDevice device = null!;
    MemoryBuffer1D<float, ILGPU.Stride1D.Dense> z = null!, prior = null!, dz = null!;
    MemoryBuffer1D<double, ILGPU.Stride1D.Dense> rows = null!;

    [Params("cpu")] public string Device { get; set; } = "cpu";
    [Params(128, 512)] public int Batch { get; set; }
    [Params(MmdKernel.Imq, MmdKernel.Rbf)] public MmdKernel Kernel { get; set; }
    const int Latent = 20;

    [GlobalSetup]
    public void Setup()
    {
        device = ComputeDevice.Open(Device);
        var a = device.Accelerator;
        z = a.Allocate1D<float>(Batch * Latent); prior = a.Allocate1D<float>(Batch * Latent); dz = a.Allocate1D<float>(Batch * Latent);
        rows = a.Allocate1D<double>(2 * Batch);
        device.Kernels.FillNormal(1, Batch * Latent, z.View);
        device.Kernels.FillNormal(2, Batch * Latent, prior.View);
        device.Synchronize();
    }

    [Benchmark]
    public void MmdWithGradient()
    {
        device.Kernels.Mmd(new MmdProblem
        {
            B = Batch, M = Batch, Latent = Latent, Kernel = (int)Kernel, KernelParameter = 2f * Latent, Unbiased = 1, GradScale = 1f,
        }, z.View, prior.View, default, default, rows.View, dz.View, default);
        device.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        z.Dispose(); prior.Dispose(); dz.Dispose(); rows.Dispose();
        device.Dispose();
    }
}
