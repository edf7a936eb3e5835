using System.CommandLine;
using IlgpuVae.Compute;
using IlgpuVae.Verification;

namespace IlgpuVae.Cli.Commands;

/// <summary>
/// <c>golden DIR</c>: the PyTorch-parity fixtures on a chosen accelerator, for machines without the .NET SDK
/// (where the test suite cannot run). Exit code 1 when any quantity misses the 1e-4 tolerance.
/// </summary>
static class GoldenCommand
{
    public static Command Create(TextWriter output)
    {
        var folder = new Argument<string>("folder") { Description = "A folder of *.json parity fixtures" };
        var device = DeviceOptions.Device("auto");
        var kernels = DeviceOptions.Kernels();
        var command = new Command("golden", "Check the PyTorch-parity fixtures in a folder on one accelerator.") { folder, device, kernels };
        command.SetAction(parse =>
        {
            string dir = parse.GetValue(folder)!;
            var files = Directory.Exists(dir) ? Directory.GetFiles(dir, "*.json").Order().ToArray() : [];
            if (files.Length == 0) throw new ArgumentException($"No *.json fixture in '{dir}'. Give the folder of the parity fixtures.");
            using var dev = ComputeDevice.Open(parse.GetValue(device)!, KernelChoices.Parse(parse.GetValue(kernels)!));
            output.WriteLine($"{dev.Describe()}, {(dev.RunsGpuKernels ? "GPU kernels" : "CPU kernels")}; tolerance {GoldenCheck.Tolerance:E0}");
            int failed = 0;
            foreach (var file in files)
            {
                var differences = GoldenCheck.Run(GoldenFixture.Load(file), dev);
                var worst = differences.MaxBy(d => d.RelativeError)!;
                bool ok = differences.All(d => d.RelativeError <= GoldenCheck.Tolerance);
                failed += ok ? 0 : 1;
                output.WriteLine($"{(ok ? "pass" : "FAIL")}  {Path.GetFileName(file),-40} worst {worst.Quantity} {worst.RelativeError:E2}");
            }
            output.WriteLine($"{files.Length - failed} passed, {failed} failed");
            return failed == 0 ? 0 : 1;
        });
        return command;
    }
}
