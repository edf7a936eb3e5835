using BenchmarkDotNet.Running;

namespace IlgpuVae.Benchmarks;

/// <summary>
/// Kernel and training-step benchmarks. Examples:
///   dotnet run -c Release --project benchmarks/IlgpuVae.Benchmarks -- --filter '*Dense*'
///   dotnet run -c Release --project benchmarks/IlgpuVae.Benchmarks -- --filter '*' --job short
///   dotnet run -c Release --project benchmarks/IlgpuVae.Benchmarks -- profile-pixelcnn [steps] [batch]
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "profile-pixelcnn") PixelCnnBenchmarks.Profile(args);
        else BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
