using System.Diagnostics;
using IlgpuVae.Compute;

namespace IlgpuVae;

/// <summary>One measurement of <see cref="StepBenchmark"/>: time to the first step (kernel compilation included) and steady-state speed.</summary>
public sealed record StepTiming(string Device, string Model, string Preset, int BatchSize, double FirstStepSeconds,
    double MedianStepMilliseconds, double ImagesPerSecond, int Steps);

/// <summary>
/// Whole training steps (gather, noise, forward, loss, backward, optimizer) on a device-resident random data
/// set: the wall time of the first step, which loads and compiles every kernel, then the median of the next
/// <c>steps</c>, each ended by the loss read-back that every step performs.
/// </summary>
public static class StepBenchmark
{
    public static StepTiming Measure(ComputeDevice device, ModelSpec spec, string preset, int batchSize, int steps)
    {
        if (batchSize <= 0 || steps <= 0) throw new ArgumentException($"The batch size and step count must be positive; got {batchSize} and {steps}.");
        var clock = Stopwatch.StartNew();
        int rows = batchSize * 2;
        var random = new Random(1);
        var pixels = new float[(long)rows * spec.InputDim];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (float)random.NextDouble();
        using var model = new VaeModel(device, spec, batchSize);
        model.Initialize(1);
        using var optimizer = new Optimizer(device, new OptimizerSpec(), model.Layout.Count);
        using var data = new DeviceDataSet(device, pixels, rows, spec.InputDim);
        var trainer = new Trainer(model, optimizer, ObjectiveSpec.Preset(preset, spec.LatentDim), batchSize, 1, binarize: false);
        trainer.Step(data, 0, batchSize);
        double first = clock.Elapsed.TotalSeconds;
        var times = new double[steps];
        for (int s = 0; s < steps; s++)
        {
            clock.Restart();
            trainer.Step(data, s % 2 * batchSize, batchSize);
            times[s] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        double median = times[steps / 2];
        return new StepTiming(device.Kind.ToString().ToLowerInvariant(), spec.ToString(), preset, batchSize, first, median,
            batchSize / (median / 1000), steps);
    }
}
