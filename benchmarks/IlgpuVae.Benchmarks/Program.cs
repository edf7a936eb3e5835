using BenchmarkDotNet.Running;

namespace IlgpuVae.Benchmarks;

/// <summary>
/// Kernel and training-step benchmarks. Examples:
///   dotnet run -c Release --project benchmarks/IlgpuVae.Benchmarks -- --filter '*Dense*'
///   dotnet run -c Release --project benchmarks/IlgpuVae.Benchmarks -- --filter '*' --job short
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
