using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using ILGPU;
using ILGPU.Runtime;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;

namespace IlgpuVae.Benchmarks;

/// <summary>
/// The dense layer's products at the shapes of the 784-400-20 VAE, batch 128, on the CPU accelerator's vector
/// kernels: forward (with bias and ReLU fused), and the whole backward — the input gradient and the parameter
/// gradients, one launch. GFLOP/s counts 2·B·in·out per product (two products for the backward). The GPU
/// kernels are timed on a GPU by <c>bench</c>, which needs no SDK there; on the CPU accelerator they run with
/// 256 OS threads per group, far too slowly to be worth a benchmark.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class DenseBenchmarks
{
    sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new ThroughputColumn("GFLOP/s", c =>
        {
            var (inputs, outputs) = ((int, int))c.Parameters[nameof(Shape)]!;
            int products = c.Descriptor.WorkloadMethod.Name == nameof(Backward) ? 2 : 1;
            return 2.0 * products * ThroughputColumn.Param(c, nameof(Batch)) * inputs * outputs;
        }, 1e9));
    }

    ComputeDevice device = null!;
    MemoryBuffer1D<float, Stride1D.Dense> x = null!, w = null!, b = null!, y = null!, dy = null!, dx = null!, dw = null!, db = null!;

    [Params("cpu")] public string Device { get; set; } = "cpu";
    [Params(128)] public int Batch { get; set; }
    [ParamsSource(nameof(Shapes))] public (int In, int Out) Shape { get; set; }
    public int Inputs => Shape.In;
    public int Outputs => Shape.Out;

    public static IEnumerable<(int, int)> Shapes => [(784, 400), (400, 784), (400, 40)];

    [GlobalSetup]
    public void Setup()
    {
        device = ComputeDevice.Open(Device);
        var a = device.Accelerator;
        x = a.Allocate1D<float>(Batch * Inputs); w = a.Allocate1D<float>(Outputs * Inputs); b = a.Allocate1D<float>(Outputs);
        y = a.Allocate1D<float>(Batch * Outputs); dy = a.Allocate1D<float>(Batch * Outputs);
        dx = a.Allocate1D<float>(Batch * Inputs); dw = a.Allocate1D<float>(Outputs * Inputs); db = a.Allocate1D<float>(Outputs);
        var k = device.Kernels;
        foreach (var (buffer, key) in new[] { (x, 1UL), (w, 2UL), (b, 3UL), (dy, 4UL) })
            k.FillUniform(key, -1, 1, (int)buffer.Length, buffer.View);
        device.Synchronize();
    }

    [Benchmark]
    public void Forward()
    {
        device.Kernels.DenseForward(Batch, Inputs, Outputs, Activation.Relu, x.View, w.View, b.View, y.View);
        device.Synchronize();
    }

    [Benchmark]
    public void Backward()
    {
        device.Kernels.DenseBackward(Batch, Inputs, Outputs, Activation.Relu, false, dy.View, x.View, w.View, dw.View, db.View, dx.View);
        device.Synchronize();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var buffer in new[] { x, w, b, y, dy, dx, dw, db }) buffer.Dispose();
        device.Dispose();
    }
}
