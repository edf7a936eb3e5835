using System.CommandLine;
using System.Text.Json;
using IlgpuVae.Compute;
using IlgpuVae.IO;
using IlgpuVae.Runs;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>bench</c>: training-step speed per accelerator and batch size, as a table and as JSON.</summary>
static class BenchCommand
{
    public static Command Create(TextWriter output)
    {
        var devices = new Option<string>("--device") { Description = "Comma-separated devices to measure (auto, cpu, cuda, opencl)", DefaultValueFactory = _ => "auto" };
        var kernels = new Option<string>("--kernels")
        {
            Description = "Comma-separated dense kernels to measure: fastest (the CPU's vector units on the CPU accelerator), portable (the tiles every accelerator runs)",
            DefaultValueFactory = _ => "fastest",
        };
        var batches = new Option<string>("--batch-sizes") { Description = "Comma-separated batch sizes", DefaultValueFactory = _ => "128" };
        var steps = new Option<int>("--steps") { Description = "Timed steps per measurement (after the first)", DefaultValueFactory = _ => 20 };
        var model = new Option<string>("--model") { Description = "Objective preset", DefaultValueFactory = _ => "vae" };
        var hidden = new Option<string>("--hidden") { Description = "Hidden sizes", DefaultValueFactory = _ => "400" };
        var latent = new Option<int>("--latent") { Description = "Latent dimensions", DefaultValueFactory = _ => 20 };
        var outFile = new Option<string>("--out") { Description = "Where to write the JSON results", DefaultValueFactory = _ => "bench.json" };
        var command = new Command("bench", "Measure training steps per second of the 784-400-20 VAE (or --hidden/--latent) per device and batch size.")
        {
            devices, kernels, batches, steps, model, hidden, latent, outFile,
        };
        command.SetAction(parse =>
        {
            var sizes = TrainCommand.ParseSizes(parse.GetValue(hidden)!, "--hidden");
            var spec = new ModelSpec(784, sizes, parse.GetValue(latent), sizes.Reverse().ToArray()).Validate();
            var results = new List<StepTiming>();
            var choices = ParseKernels(parse.GetValue(kernels)!);
            var batchSizes = TrainCommand.ParseSizes(parse.GetValue(batches)!, "--batch-sizes");
            output.WriteLine($"{"device",-8} {"kernels",-9} {"batch",6} {"first step s",13} {"median ms",10} {"images/s",10}");
            foreach (var name in parse.GetValue(devices)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                foreach (var choice in choices)
                {
                    using var device = ComputeDevice.Open(name, choice);
                    foreach (int batch in batchSizes)
                    {
                        var t = StepBenchmark.Measure(device, spec, parse.GetValue(model)!, batch, parse.GetValue(steps));
                        results.Add(t);
                        output.WriteLine($"{t.Device,-8} {t.Kernels,-9} {t.BatchSize,6} {t.FirstStepSeconds,13:F2} {t.MedianStepMilliseconds,10:F2} {t.ImagesPerSecond,10:F0}");
                    }
                }
            AtomicWrite.ReplaceText(parse.GetValue(outFile)!, JsonSerializer.Serialize(results, RunConfig.Json));
            output.WriteLine($"Wrote {Path.GetFullPath(parse.GetValue(outFile)!)}");
            return 0;
        });
        return command;
    }

    static KernelChoice[] ParseKernels(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(k => Enum.TryParse<KernelChoice>(k, ignoreCase: true, out var c) && !int.TryParse(k, out _) ? c
                : throw new ArgumentException($"--kernels takes fastest, portable or both separated by a comma; '{k}' is not one of them."))
            .ToArray();
}
