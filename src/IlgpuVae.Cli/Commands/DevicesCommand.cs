using System.CommandLine;
using IlgpuVae.Compute;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>devices</c>: what ILGPU sees, which one auto picks, and why any was refused.</summary>
static class DevicesCommand
{
    public static Command Create(TextWriter output)
    {
        var command = new Command("devices", "List the accelerators ILGPU sees, the one --device auto picks, and why any is refused.");
        command.SetAction(_ =>
        {
            var reports = ComputeDevice.Survey();
            output.WriteLine($"{"device",-10} {"name",-40} {"memory",10}  status");
            foreach (var r in reports)
            {
                string status = r.Usable ? (r.IsAutoChoice ? "usable — auto picks this one" : "usable") : $"refused: {r.Refusal}";
                string memory = r.Kind == DeviceKind.Cpu ? "host" : $"{r.MemoryBytes / (1024.0 * 1024 * 1024):F1} GiB";
                output.WriteLine($"{r.Spec,-10} {Truncate(r.Name, 40),-40} {memory,10}  {status}");
            }
            if (!reports.Any(r => r.Kind == DeviceKind.Cuda))
                output.WriteLine("No CUDA device found (no NVIDIA driver or GPU).");
            if (!reports.Any(r => r.Kind == DeviceKind.OpenCL))
                output.WriteLine($"No OpenCL device found: {OpenClLoader.WhyNoDevice()}");
            else if (!reports.Any(r => r.Kind == DeviceKind.OpenCL && r.Usable))
                output.WriteLine("No OpenCL device qualifies: ILGPU needs OpenCL 2.0, or 3.0 with the generic address space " +
                                 "(PoCL 4 and newer have it; Debian 12's PoCL 3.1, NVIDIA's OpenCL and Mesa's rusticl 22 do not).");
            return 0;
        });
        return command;
    }

    static string Truncate(string s, int n) => s.Length <= n ? s : s[..(n - 1)] + "…";
}
