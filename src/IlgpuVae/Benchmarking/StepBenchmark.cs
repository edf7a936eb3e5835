using System.Diagnostics;
using ILGPU.Runtime.Cuda;
using IlgpuVae.Compute;
using IlgpuVae.Data;
using IlgpuVae.Model;
using IlgpuVae.Training;

namespace IlgpuVae.Benchmarking;

/// <summary>
/// One measurement of <see cref="StepBenchmark"/>: the first step (kernel compilation included), the steady
/// state, how many launches a step makes and what they cost at least, the dense products' speed against the
/// device's FP32 peak, and the device's free memory around the timed steps (CUDA only).
/// </summary>
internal sealed record StepTiming(string Device, string DeviceName, string Kernels, string Model, string Preset, int BatchSize,
    double FirstStepSeconds, double MedianStepMilliseconds, double ImagesPerSecond, int Steps,
    double LaunchesPerStep, double EmptyLaunchMicroseconds, double LaunchFloorMilliseconds,
    ProductTiming Products, double? PeakGflops, double? ProductsShareOfPeak, string? PeakFormula,
    long? FreeBytesBefore, long? FreeBytesAfter);

/// <summary>
/// Whole training steps (gather, noise, forward, loss, backward, optimizer, the terms read back a step late) on
/// a device-resident random data set: the wall time of the first step, which loads and compiles every kernel,
/// then — after <c>warmUp</c> of untimed steps, while .NET recompiles the host code and ILGPU's launch path at
/// full optimization — the median of the next <c>steps</c>. Beside them: launches per step (counted by the
/// kernel set), an empty kernel's launch time (the floor a step's launches cannot beat), and the products of the
/// model's layer with the most arithmetic (<see cref="ProductBenchmark"/>).
/// </summary>
internal static class StepBenchmark
{
    public static StepTiming Measure(ComputeDevice device, ModelSpec spec, string preset, int batchSize, int steps, TimeSpan warmUp)
    {
        if (batchSize <= 0 || steps <= 0) throw new ArgumentException($"The batch size and step count must be positive; got {batchSize} and {steps}.");
        var clock = Stopwatch.StartNew();
        using var rig = new StepRig(device, spec, preset, batchSize, rows: batchSize * 2);
        var (trainer, pass) = (rig.Trainer, rig.Trainer.BeginEpoch(rig.Data));
        trainer.Step(pass, 0);
        trainer.FinishSteps(pass);
        double first = clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (int s = 0; s == 0 || clock.Elapsed < warmUp; s++)
            trainer.Step(pass, s % 2);
        trainer.FinishSteps(pass);

        long? freeBefore = FreeBytes(device);
        long launches = device.Kernels.Launches;
        var times = new double[steps];
        for (int s = 0; s < steps; s++)
        {
            clock.Restart();
            trainer.Step(pass, s % 2);
            times[s] = clock.Elapsed.TotalMilliseconds;
        }
        trainer.FinishSteps(pass);
        double perStep = (double)(device.Kernels.Launches - launches) / steps;
        long? freeAfter = FreeBytes(device);

        Array.Sort(times);
        double median = times[steps / 2];
        double empty = EmptyLaunchMicroseconds(device);
        // The products of the layer with the most arithmetic, as a dense layer's (a convolution's over its columns).
        var (rows, inputs, outputs) = rig.Model.Encoder.Layers.Concat(rig.Model.Decoder.Layers)
            .Select(l => l.Product(batchSize)).MaxBy(p => (long)p.Rows * p.Inputs * p.Outputs);
        var products = ProductBenchmark.Measure(device, rows, inputs, outputs);
        var peak = DevicePeak.Of(device);
        return new StepTiming(device.Spec, device.Name, device.KernelChoice.ToString().ToLowerInvariant(), spec.ToString(), preset, batchSize,
            first, median, batchSize / (median / 1000), steps, perStep, empty, empty * perStep / 1000,
            products, peak?.Gflops, peak is null ? null : products.ForwardGflops / peak.Gflops, peak?.How, freeBefore, freeAfter);
    }

    /// <summary>
    /// <paramref name="steps"/> more steps with every launch waited for and timed (<see cref="KernelProfile"/>):
    /// each kernel's launches and milliseconds per step, the costliest first, and the host's share between steps.
    /// </summary>
    public static IReadOnlyList<KernelShare> Profile(ComputeDevice device, ModelSpec spec, string preset, int batchSize, int steps)
    {
        using var rig = new StepRig(device, spec, preset, batchSize, rows: batchSize * 2);
        var (trainer, pass) = (rig.Trainer, rig.Trainer.BeginEpoch(rig.Data));
        for (int s = 0; s < 3; s++) trainer.Step(pass, s % 2);  // compiled and warm
        trainer.FinishSteps(pass);
        return KernelProfile.During(device, () =>
        {
            for (int s = 0; s < steps; s++) trainer.Step(pass, s % 2);
            trainer.FinishSteps(pass);
        }).PerStep(steps);
    }

    /// <summary>The median time of launching the empty kernel and waiting for it, in microseconds (rounds of 10, for up to half a second).</summary>
    static double EmptyLaunchMicroseconds(ComputeDevice device)
    {
        var k = device.Kernels;
        k.Empty();
        device.Synchronize();
        var times = new List<double>();
        var clock = new Stopwatch();
        var budget = Stopwatch.StartNew();
        while (times.Count < 51 && (times.Count < 3 || budget.Elapsed.TotalSeconds < 0.5))
        {
            clock.Restart();
            for (int j = 0; j < 10; j++) k.Empty();
            device.Synchronize();
            times.Add(clock.Elapsed.TotalMilliseconds * 100); // µs per launch
        }
        times.Sort();
        return times[times.Count / 2];
    }

    static long? FreeBytes(ComputeDevice device) => device.Accelerator is CudaAccelerator cuda ? cuda.GetFreeMemory() : null;
}

/// <summary>
/// What timed training steps need: a model initialised from seed 1, Adam, a trainer for <c>preset</c>, and
/// <c>rows</c> random images resident on the device (no binarization, so every step does the same work).
/// </summary>
internal sealed class StepRig : IDisposable
{
    public VaeModel Model { get; }
    public Optimizer Optimizer { get; }
    public DeviceDataSet Data { get; }
    public Trainer Trainer { get; }

    public StepRig(ComputeDevice device, ModelSpec spec, string preset, int batchSize, int rows)
    {
        var random = new Random(1);
        var pixels = new float[(long)rows * spec.InputDim];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)random.NextDouble();
        Model = new VaeModel(device, spec, batchSize);
        Model.Initialize(1);
        Optimizer = new Optimizer(device, new OptimizerSpec(), Model.Layout.Count);
        Data = new DeviceDataSet(device, pixels, rows, spec.InputDim);
        Trainer = new Trainer(Model, Optimizer, ObjectiveSpec.Preset(preset, spec.LatentDim), batchSize, 1, binarize: false);
    }

    public void Dispose()
    {
        Trainer.Dispose();
        Data.Dispose();
        Optimizer.Dispose();
        Model.Dispose();
    }
}
