using System.Reflection;
using ILGPU;
using ILGPU.Runtime.Cuda;
using IlgpuVae.Compute;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Gpu;

/// <summary>
/// Every kernel entry point is named for the kernel sets that load it (<see cref="KernelSet"/>'s rule: only the GPU
/// set's end in Gpu, only the CPU set's in Cpu, both sets' in neither), and every one is loaded by some set: no dead
/// kernel. A GPU backend refuses the CPU set's vector kernels for the reason ILGPU gives [External] code.
/// </summary>
public sealed class KernelNamingTests
{
    static readonly Lazy<(HashSet<MethodInfo> Gpu, HashSet<MethodInfo> Cpu)> Sets = new(() =>
        (GpuCompilation.GpuKernels().Select(k => k.Method).ToHashSet(), TestDevices.Get(TestDevices.Cpu).Kernels.Loaded.Select(k => k.Method).ToHashSet()));

    /// <summary>The kernels assembly's entry points: public static void methods taking a thread index first, or explicitly grouped GPU ones.</summary>
    static IEnumerable<MethodInfo> EntryPoints() => typeof(IlgpuVae.Kernels.Products).Assembly.GetTypes()
        .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
        .Where(m => m.ReturnType == typeof(void) && (m.GetParameters() is [{ ParameterType: var first }, ..] && first == typeof(Index1D) || m.Name.EndsWith("Gpu")));

    static string Name(MethodInfo m) => $"{m.DeclaringType!.Name}.{m.Name}";

    [Fact]
    public void EveryLoadedKernelIsNamedForTheSetsThatLoadIt()
    {
        var (gpu, cpu) = Sets.Value;
        var kernels = gpu.Union(cpu).Where(m => m.DeclaringType!.Assembly == typeof(IlgpuVae.Kernels.Products).Assembly).ToList();
        Assert.True(kernels.Count > 30, $"only {kernels.Count} kernels were found");
        foreach (var m in kernels)
        {
            string expected = (gpu.Contains(m), cpu.Contains(m)) switch { (true, true) => "", (true, false) => "Gpu", _ => "Cpu" };
            bool suffixed = m.Name.EndsWith("Gpu") || m.Name.EndsWith("Cpu");
            Assert.True(expected == "" ? !suffixed : m.Name.EndsWith(expected),
                $"{Name(m)} is loaded by {(expected == "" ? "both sets" : expected == "Gpu" ? "the GPU set only" : "the CPU set only")}, so its name should {(expected == "" ? "end in neither Gpu nor Cpu" : $"end in {expected}")}.");
        }
    }

    [Fact]
    public void EveryKernelEntryPointIsLoaded()
    {
        var (gpu, cpu) = Sets.Value;
        var entries = EntryPoints().ToList();
        Assert.True(entries.Count > 30, $"only {entries.Count} entry points were found");
        var dead = entries.Where(m => !gpu.Contains(m) && !cpu.Contains(m)).Select(Name).ToList();
        Assert.True(dead.Count == 0, "Kernels no set loads: " + string.Join(", ", dead));
    }

    [Fact]
    public void AGpuBackendRefusesTheCpuSetsVectorKernelsForTheirExternalCode()
    {
        var (gpu, cpu) = Sets.Value;
        var cpuOnly = cpu.Except(gpu).ToList();
        var accepted = new List<string>();
        foreach (var m in cpuOnly)
        {
            try
            {
                GpuCompilation.Ptx(new LoadedKernel(m, false), CudaArchitecture.SM_80);
                accepted.Add(Name(m));
            }
            catch (ILGPU.InternalCompilerException e) when (e.InnerException is NotSupportedException)
            {
            }
        }
        // A kernel only the CPU set loads is there for its vector ([External]) code, which no GPU backend compiles —
        // products, convolutions, masked convolutions, the likelihood, the MMD, Adam, gather, normal draws, the
        // reparameterization, importance draws and the mutual information — or, for these four, because it reduces with
        // one thread per row where the GPU set reduces in groups through shared memory: plain code a GPU backend takes.
        string[] rowReductions = ["Estimators.DimensionStatisticsCpu", "Estimators.LogMeanExpCpu", "FreeBits.DimensionsCpu", "Reductions.LossTermsCpu"];
        Assert.Equal(rowReductions, accepted.Order());
        Assert.True(cpuOnly.Count - accepted.Count >= 14, $"only {cpuOnly.Count - accepted.Count} of the CPU set's own kernels are vector code");
    }
}
