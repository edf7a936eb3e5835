using System.Collections.Concurrent;
using ILGPU.Runtime.Cuda;
using IlgpuVae.Compute;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Gpu;

/// <summary>
/// Every kernel a GPU loads compiles, with no GPU present, to PTX for sm_60, sm_80 and sm_90 and to OpenCL C;
/// the PTX uses no approximate math instruction (the kernels' own <c>DeviceMath</c> instead) and ptxas assembles
/// it without spilling registers; clang compiles the OpenCL C. The CPU-only vector kernels are never loaded by
/// the GPU kernel set, and a GPU backend refuses them. ptxas and clang come from scripts/install-gpu-compilers.sh,
/// which CI runs and requires (<see cref="Prerequisites"/>); without them the cases that call them are skipped.
/// </summary>
public sealed class GpuCompilationTests
{
    static readonly Lazy<IReadOnlyList<LoadedKernel>> Kernels = new(GpuCompilation.GpuKernels);
    static readonly ConcurrentDictionary<(string, string), string> PtxCache = new();

    internal static LoadedKernel Kernel(string name) => Kernels.Value.Single(k => k.Name == name);

    static CudaArchitecture Architecture(string sm) => GpuCompilation.Architectures.Single(a => $"sm_{a.Major}{a.Minor}" == sm);

    static string Ptx(string kernel, string sm) => PtxCache.GetOrAdd((kernel, sm), _ => GpuCompilation.Ptx(Kernel(kernel), Architecture(sm)));

    public static TheoryData<string, string> KernelsAndArchitectures()
    {
        var data = new TheoryData<string, string>();
        foreach (var k in Kernels.Value)
            foreach (var a in GpuCompilation.Architectures)
                data.Add(k.Name, $"sm_{a.Major}{a.Minor}");
        return data;
    }

    public static TheoryData<string> KernelNames()
    {
        var data = new TheoryData<string>();
        foreach (var k in Kernels.Value) data.Add(k.Name);
        return data;
    }

    [Fact]
    public void TheGpuKernelSetCoversEveryStepOfTraining()
    {
        var names = Kernels.Value.Select(k => k.Name).ToHashSet();
        foreach (var name in new[] { "Products.PairGpu", "Convolutions.Im2ColGpu", "Convolutions.Col2ImGpu", "Likelihoods.RowsGpu", "MmdTiles.RunGpu",
                     "Reductions.LossTermsGpu", "Reparameterize.ForwardGpu", "Optimizers.AdamGpu", "Batches.GatherGpu",
                     "FreeBits.DimensionsGpu", "Reparameterize.BackwardPerDimension", "TcTiles.RowsGpu", "TcTiles.ColumnsGpu" })
            Assert.Contains(name, names);
    }

    [Theory]
    [MemberData(nameof(KernelsAndArchitectures))]
    public void CompilesToPtxWithoutApproximateMath(string kernel, string sm)
    {
        string ptx = Ptx(kernel, sm);
        // ILGPU 1.5 writes at most sm_80 code, which the driver (or ptxas, below) compiles for newer GPUs.
        var target = System.Text.RegularExpressions.Regex.Match(ptx, @"\.target sm_(\d+)");
        Assert.True(target.Success && int.Parse(target.Groups[1].Value) <= int.Parse(sm[3..]), $"target of {kernel}: {target.Value}");
        Assert.Contains(".entry", ptx);
        Assert.DoesNotContain(".approx", ptx);
    }

    [NeedsTheory(Prerequisite.Ptxas)]
    [MemberData(nameof(KernelsAndArchitectures))]
    public void PtxasAssemblesItWithoutSpills(string kernel, string sm)
    {
        string ptxas = GpuCompilation.FindPtxas() ?? throw new InvalidOperationException(Prerequisites.MissingReason(Prerequisite.Ptxas));
        var report = GpuCompilation.Assemble(ptxas, Ptx(kernel, sm), Architecture(sm));
        Assert.True(report.SpillStores + report.SpillLoads == 0, $"{kernel} on {sm} spills: {report.Output}");
        Assert.InRange(report.Registers, 1, 255);
    }

    [NeedsTheory(Prerequisite.Clang)]
    [MemberData(nameof(KernelNames))]
    public void CompilesToOpenClThatClangAccepts(string kernel)
    {
        string source = GpuCompilation.OpenCl(Kernel(kernel));
        Assert.Contains("kernel", source);
        string clang = GpuCompilation.FindClang() ?? throw new InvalidOperationException(Prerequisites.MissingReason(Prerequisite.Clang));
        GpuCompilation.CompileOpenCl(clang, source);
    }

}
