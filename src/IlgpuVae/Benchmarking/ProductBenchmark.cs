using System.Diagnostics;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;

namespace IlgpuVae.Benchmarking;

/// <summary>
/// The dense products of one layer [B × in] → out, each timed alone (median over rounds of launches, the device
/// waited for at the end of each round): the forward x·Wᵀ (bias and ReLU fused), the weight gradient dYᵀ·x
/// (bias gradient fused), and the whole layer backward (that and dY·W in one launch). GFLOP/s counts 2·B·in·out
/// per product.
/// </summary>
internal sealed record ProductTiming(int Batch, int Inputs, int Outputs, double ForwardMicroseconds, double WeightGradientMicroseconds,
    double LayerBackwardMicroseconds)
{
    double Flops => 2.0 * Batch * Inputs * Outputs;
    public double ForwardGflops => Flops / ForwardMicroseconds / 1e3;
    public double WeightGradientGflops => Flops / WeightGradientMicroseconds / 1e3;
    public double LayerBackwardGflops => 2 * Flops / LayerBackwardMicroseconds / 1e3;
}

internal static class ProductBenchmark
{
    public static ProductTiming Measure(ComputeDevice device, int batch, int inputs, int outputs, int rounds = 15)
    {
        var memory = new DeviceMemory(device, "the product benchmark");
        using var x = memory.Floats((long)batch * inputs);
        using var w = memory.Floats((long)outputs * inputs);
        using var b = memory.Floats(outputs);
        using var y = memory.Floats((long)batch * outputs);
        using var dy = memory.Floats((long)batch * outputs);
        using var dx = memory.Floats((long)batch * inputs);
        using var dw = memory.Floats((long)outputs * inputs);
        using var db = memory.Floats(outputs);
        var k = device.Kernels;
        k.FillUniform(1, 0, 1, (int)x.Length, x.View);
        k.FillUniform(2, -0.05f, 0.05f, (int)w.Length, w.View);
        k.FillUniform(3, -1, 1, (int)dy.Length, dy.View);
        double Time(Action launch)
        {
            launch();
            device.Synchronize();
            // Enough launches per round for about 20 ms, at least one.
            var clock = Stopwatch.StartNew();
            launch();
            device.Synchronize();
            double once = Math.Max(clock.Elapsed.TotalMilliseconds, 1e-3);
            int reps = (int)Math.Clamp(20.0 / once, 1, 1000);
            // At most about two seconds per product, however slow (the GPU kernels on the CPU accelerator).
            var times = new double[Math.Clamp((int)(2000 / (reps * once)), 3, rounds)];
            for (int r = 0; r < times.Length; r++)
            {
                clock.Restart();
                for (int i = 0; i < reps; i++) launch();
                device.Synchronize();
                times[r] = clock.Elapsed.TotalMilliseconds * 1000 / reps;
            }
            Array.Sort(times);
            return times[times.Length / 2];
        }
        return new ProductTiming(batch, inputs, outputs,
            Time(() => k.DenseForward(batch, inputs, outputs, Activation.Relu, x.View, w.View, b.View, y.View)),
            Time(() => k.DenseBackward(batch, inputs, outputs, Activation.Identity, false, dy.View, x.View, w.View, dw.View, db.View, null)),
            Time(() => k.DenseBackward(batch, inputs, outputs, Activation.Relu, false, dy.View, x.View, w.View, dw.View, db.View, dx.View)));
    }
}
