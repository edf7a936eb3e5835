using System.CommandLine;
using System.Text.Json;
using IlgpuVae.Benchmarking;
using IlgpuVae.Compute;
using IlgpuVae.IO;
using IlgpuVae.Model;
using IlgpuVae.Runs;
using IlgpuVae.Runs.Settings;
using IlgpuVae.Settings;

namespace IlgpuVae.Cli.Commands;

/// <summary>
/// <c>bench</c>: training-step speed per accelerator, kernel choice and batch size, with launches per step, the
/// launch floor, and the dense products against the device's FP32 peak — a table and the same numbers as JSON.
/// </summary>
static class BenchCommand
{
    public const string BenchFile = "bench.json";

    public static Command Create(TextWriter output)
    {
        var devices = DeviceOptions.DeviceList();
        var kernels = DeviceOptions.KernelList();
        var batches = new Option<string>("--batch-sizes") { Description = "Comma-separated batch sizes", DefaultValueFactory = _ => "128" };
        var steps = new Option<int>("--steps") { Description = "Timed steps per measurement (after the first)", DefaultValueFactory = _ => 20 };
        var warmUp = new Option<double>("--warmup") { Description = "Seconds of untimed steps before timing (at least one step)", DefaultValueFactory = _ => 1.0 };
        var model = new Option<string>("--model") { Description = "Objective preset", DefaultValueFactory = _ => "vae" };
        var settings = new SettingOptions<RunConfig>(nameof(RunConfig.Arch), nameof(RunConfig.Channels), nameof(RunConfig.ConvKernel),
            nameof(RunConfig.ConvStride), nameof(RunConfig.Hidden), nameof(RunConfig.Latent));
        var outFolder = new Option<string>("--out") { Description = "Folder to write bench.json into", DefaultValueFactory = _ => "." };
        var profile = new Option<bool>("--profile")
        {
            Description = "After each measurement, time every kernel of as many steps again, each launch waited for (serializes the device; the table is where time goes)",
        };
        var command = new Command("bench", "Measure training steps per second of the 784-400-20 VAE (or --arch/--hidden/--latent) on 28×28 images, per device and batch size.")
        {
            devices, kernels, batches, steps, warmUp, model, outFolder, profile,
        };
        foreach (var option in settings.Options) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var config = settings.Bind(parse).WithDefaultsFor(settings.Given(parse));
            RunSettings.RequireChosenPieces(config, settings.Given(parse));
            var spec = config.ModelSpec(new ImageShape(1, 28, 28));
            var results = new List<StepTiming>();
            var choices = ParseKernels(parse.GetValue(kernels)!);
            var batchSizes = Sizes.Parse(parse.GetValue(batches)!, "--batch-sizes", "batch sizes", "128,1024", noneAllowed: false);
            var warm = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(warmUp)));
            output.WriteLine($"{"device",-8} {"kernels",-9} {"batch",6} {"first s",8} {"median ms",10} {"images/s",10} {"launches",9} {"floor ms",9} {"fwd GFLOP/s",12} {"bwd GFLOP/s",12} {"% peak",7}");
            foreach (var name in parse.GetValue(devices)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                foreach (var choice in choices)
                {
                    using var device = ComputeDevice.Open(name, choice);
                    foreach (int batch in batchSizes)
                    {
                        var t = StepBenchmark.Measure(device, spec, parse.GetValue(model)!, batch, parse.GetValue(steps), warm);
                        results.Add(t);
                        string share = t.ProductsShareOfPeak is { } p ? Figure(100 * p) : "-";
                        output.WriteLine($"{t.Device,-8} {t.Kernels,-9} {t.BatchSize,6} {t.FirstStepSeconds,8:F2} {t.MedianStepMilliseconds,10:F2} {t.ImagesPerSecond,10:F0} " +
                            $"{t.LaunchesPerStep,9:F0} {t.LaunchFloorMilliseconds,9:F3} {Figure(t.Products.ForwardGflops),12} {Figure(t.Products.LayerBackwardGflops),12} {share,7}");
                        if (parse.GetValue(profile))
                            foreach (var line in KernelProfile.Table(StepBenchmark.Profile(device, spec, parse.GetValue(model)!, batch, parse.GetValue(steps)), "step"))
                                output.WriteLine(line);
                    }
                }
            foreach (var t in results.Where(t => t.PeakFormula is not null).DistinctBy(t => t.Device))
                output.WriteLine($"{t.Device} FP32 peak {t.PeakGflops:F0} GFLOP/s = {t.PeakFormula}; % peak is the forward product's share.");
            Directory.CreateDirectory(parse.GetValue(outFolder)!);
            string path = Path.Combine(parse.GetValue(outFolder)!, BenchFile);
            AtomicWrite.ReplaceText(path, JsonSerializer.Serialize(results, RunConfig.Json));
            output.WriteLine($"Wrote {Path.GetFullPath(path)}");
            return 0;
        });
        return command;
    }

    /// <summary>One decimal from 10 up; below, three significant digits, so a slow kernel set (portable on the CPU) reads 0.00312, not 0.0.</summary>
    internal static string Figure(double value) =>
        value.ToString(Math.Abs(value) >= 10 || value == 0 ? "F1" : "G3", System.Globalization.CultureInfo.InvariantCulture);

    static KernelChoice[] ParseKernels(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(k => KernelChoices.Parse(k)).ToArray();
}
