using System.Diagnostics;
using IlgpuVae.Compute;

namespace IlgpuVae;

/// <summary>One measurement of <see cref="StepBenchmark"/>: time to the first step (kernel compilation included) and steady-state speed.</summary>
public sealed record StepTiming(string Device, string Kernels, string Model, string Preset, int BatchSize, double FirstStepSeconds,
    double MedianStepMilliseconds, double ImagesPerSecond, int Steps);

/// <summary>
/// Whole training steps (gather, noise, forward, loss, backward, optimizer) on a device-resident random data
/// set: the wall time of the first step, which loads and compiles every kernel, then — after a second of
/// untimed steps, while .NET recompiles the host code and ILGPU's launch path at full optimization — the
/// median of the next <c>steps</c>, each ended by the loss read-back that every step performs.
/// </summary>
public static class StepBenchmark
{
    static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(1);

    public static StepTiming Measure(ComputeDevice device, ModelSpec spec, string preset, int batchSize, int steps)
    {
        if (batchSize <= 0 || steps <= 0) throw new ArgumentException($"The batch size and step count must be positive; got {batchSize} and {steps}.");
        var clock = Stopwatch.StartNew();
        using var rig = new StepRig(device, spec, preset, batchSize, rows: batchSize * 2);
        var (trainer, data) = (rig.Trainer, rig.Data);
        trainer.Step(data, 0, batchSize);
        double first = clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (int s = 0; s < 3 || clock.Elapsed < WarmUp; s++)
            trainer.Step(data, s % 2 * batchSize, batchSize);
        var times = new double[steps];
        for (int s = 0; s < steps; s++)
        {
            clock.Restart();
            trainer.Step(data, s % 2 * batchSize, batchSize);
            times[s] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        double median = times[steps / 2];
        return new StepTiming(device.Kind.ToString().ToLowerInvariant(), device.KernelChoice.ToString().ToLowerInvariant(), spec.ToString(), preset, batchSize, first, median,
            batchSize / (median / 1000), steps);
    }
}

/// <summary>
/// What timed training steps need: a model initialised from seed 1, Adam, a trainer for <c>preset</c>, and
/// <c>rows</c> random images resident on the device (no binarization, so every step does the same work).
/// </summary>
public sealed class StepRig : IDisposable
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
        Data.Dispose();
        Optimizer.Dispose();
        Model.Dispose();
    }
}
