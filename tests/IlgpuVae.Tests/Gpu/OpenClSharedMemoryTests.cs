using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Runtime;
using ILGPU.Runtime.OpenCL;
using IlgpuVae.Compute;
using IlgpuVae.Kernels;
using IlgpuVae.Tests.Infrastructure;
using GeneratedRegex = System.Text.RegularExpressions.GeneratedRegexAttribute;
using Match = System.Text.RegularExpressions.Match;
using Regex = System.Text.RegularExpressions.Regex;

namespace IlgpuVae.Tests.Gpu;

/// <summary>
/// ILGPU 1.5.3's OpenCL backend and shared memory (<see cref="SharedScratch"/> says why the GPU kernels allocate
/// theirs statically). Dynamic shared memory reaches an OpenCL kernel through program-scope variables,
/// <c>local T* shared_var_N;</c> and <c>int shared_var_len_N;</c> beside the kernel, which every work-group sets to its
/// own local buffer when it starts and reads back as it goes: program-scope variables are global memory, so
/// work-groups that run at once share one pointer. The reproduction keeps the smallest kernel found to show it on
/// PoCL — the product's shared-memory tiles (<see cref="TiledGemm"/>) in dynamic shared memory — and shows the cause:
/// the same OpenCL C with only those two variables moved into the kernel's body gives the right product. (Smaller
/// kernels — a reduction, a loop of barriers over one slab — keep the pointer in a register and do not show it.)
/// The compilation tests check that no GPU kernel of ours is written that way.
/// </summary>
public sealed partial class OpenClSharedMemoryTests
{
    const int M = 256, N = 256, K = 784, Side = 16, Rounds = 5;

    /// <summary>C = A·Bᵀ by the product's tiles, with ILGPU's dynamic shared memory for the slabs.</summary>
    static void DynamicSharedProduct(GemmProblem p, int side, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c) =>
        TiledGemm.Run(Grid.IdxX, side, p, SharedMemory.GetDynamic<float>(), a, b, c, default, default);

    static readonly GemmProblem Problem = new() { M = M, N = N, K = K, ARow = K, ACol = 1, BRow = 1, BCol = K };

    /// <summary>Program-scope pointers to local memory, and their lengths, in OpenCL C.</summary>
    [GeneratedRegex(@"(?m)^local ([^(;*]*)\*\s*(shared_var_\d+);\r?\n")]
    private static partial Regex ProgramScopeLocalPointer();

    [GeneratedRegex(@"(?m)^int (shared_var_len_\d+);\r?\n")]
    private static partial Regex ProgramScopeLength();

    /// <summary>The OpenCL C with each program-scope shared pointer and length declared in the kernel where it is set.</summary>
    static string WithPointersInTheKernel(string source)
    {
        foreach (Match m in ProgramScopeLocalPointer().Matches(source))
            source = source.Replace(m.Value, "").Replace($"\t{m.Groups[2].Value} = ", $"\tlocal {m.Groups[1].Value}* {m.Groups[2].Value} = ");
        foreach (Match m in ProgramScopeLength().Matches(source))
            source = source.Replace(m.Value, "").Replace($"\t{m.Groups[1].Value} = ", $"\tint {m.Groups[1].Value} = ");
        return source;
    }

    static readonly System.Reflection.MethodInfo Product = typeof(OpenClSharedMemoryTests).GetMethod(nameof(DynamicSharedProduct),
        System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!;

    /// <summary>Elements of C that missed the double-precision product, over <see cref="Rounds"/> launches of the kernel in <paramref name="source"/>.</summary>
    static int WrongElements(ComputeDevice device, Func<string, string> source)
    {
        var cl = (CLAccelerator)device.Accelerator;
        var compiled = (CLCompiledKernel)cl.Backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(Product), new KernelSpecialization());
        // The entry point is internal to ILGPU; the kernel is rebuilt around the changed source with it.
        var entry = (SeparateViewEntryPoint)typeof(CompiledKernel).GetProperty("EntryPoint", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .GetValue(compiled)!;
        var kernel = cl.LoadKernel(new CLCompiledKernel(cl.Context, entry, compiled.Info, source(compiled.Source), compiled.CVersion));
        var launch = kernel.CreateLauncherDelegate<Action<AcceleratorStream, KernelConfig, GemmProblem, int, ArrayView<float>, ArrayView<float>, ArrayView<float>>>();
        var random = new Random(1);
        float[] a = TestData.Uniform(random, M * K, 0, 1), b = TestData.Uniform(random, N * K, 0, 1);
        using var d = new DeviceArrays(device);
        var c = d.Floats(M * N);
        var config = new KernelConfig(TiledGemm.Tiles(Problem, Side), Side * Side, SharedMemoryConfig.RequestDynamic<float>(TiledGemm.SharedFloats(Side)));
        int wrong = 0;
        for (int round = 0; round < Rounds; round++)
        {
            c.MemSetToZero();
            launch(cl.DefaultStream, config, Problem, Side, d.Upload(a), d.Upload(b), c);
            var got = DeviceArrays.Download(c);
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++)
                {
                    double want = 0;
                    for (int k = 0; k < K; k++) want += (double)a[m * K + k] * b[n * K + k];
                    if (!(Math.Abs(got[m * N + n] - want) <= 1e-4 * Math.Abs(want) + 1e-4)) wrong++;
                }
        }
        return wrong;
    }

    public static TheoryData<string> OpenClDevice() => [TestDevices.OpenCl];

    /// <summary>The fault, on a device whose groups run at once (PoCL runs one per core; CI's machines have two).</summary>
    [DeviceTheory]
    [MemberData(nameof(OpenClDevice))]
    public void IlgpusDynamicSharedMemoryGivesWrongProductsOnOpenCl(string device)
    {
        var d = TestDevices.Get(device);
        Assert.True(d.Accelerator.NumMultiprocessors >= 2, $"{d.Describe()} runs one group at a time; the reproduction needs two at once.");
        Assert.True(WrongElements(d, source => source) > 0,
            $"ILGPU's dynamic shared memory gave right products on {d.Describe()}: has its OpenCL backend changed? (SharedScratch may be revisited.)");
    }

    /// <summary>The cause: the program-scope pointer. The same source with it declared in the kernel is right, every launch.</summary>
    [DeviceTheory]
    [MemberData(nameof(OpenClDevice))]
    public void TheSameSourceWithThePointerInTheKernelIsRight(string device) =>
        Assert.Equal(0, WrongElements(TestDevices.Get(device), WithPointersInTheKernel));

    /// <summary>ILGPU writes dynamic shared memory as program-scope variables, and a static allocation in the kernel as a local array.</summary>
    [Fact]
    public void IlgpuWritesDynamicSharedMemoryAsProgramScopeVariables()
    {
        string source = GpuCompilation.OpenCl(new LoadedKernel(Product, ExplicitlyGrouped: true));
        Assert.Matches(ProgramScopeLocalPointer(), source);
        Assert.DoesNotMatch(ProgramScopeLocalPointer(), WithPointersInTheKernel(source));
        Assert.Contains("\tlocal float* shared_var_", WithPointersInTheKernel(source));
    }

    public static TheoryData<string> KernelNames() => GpuCompilationTests.KernelNames();

    /// <summary>None of the GPU kernels shares memory through a program-scope variable: their shared memory is static, in the kernel.</summary>
    [Theory]
    [MemberData(nameof(KernelNames))]
    public void NoGpuKernelSharesAProgramScopePointer(string kernel)
    {
        var source = GpuCompilation.OpenCl(GpuCompilationTests.Kernel(kernel));
        Assert.DoesNotMatch(ProgramScopeLocalPointer(), source);
        Assert.DoesNotContain("dynamic_shared_memory", source);
    }

    /// <summary>
    /// ILGPU writes every group barrier for OpenCL as <c>work_group_barrier(CLK_GLOBAL_MEM_FENCE)</c>, while OpenCL orders
    /// local (shared) memory only under <c>CLK_LOCAL_MEM_FENCE</c>. PoCL, and the GPU drivers we know of, make every
    /// work-group barrier a full one, so our tiles are right there; a driver that took the flag at its word could let a
    /// thread read a tile before it is written. Nothing in ILGPU 1.5.3 emits the local fence, so it is recorded here:
    /// if this fails, ILGPU has changed how it writes barriers.
    /// </summary>
    [Fact]
    public void IlgpusGroupBarrierOnOpenClFencesOnlyGlobalMemory()
    {
        string source = GpuCompilation.OpenCl(GpuCompilationTests.Kernel("Products.PairGpu"));
        var barriers = Regex.Matches(source, @"work_group_barrier\s*\(([^)]*)\)").Select(m => m.Groups[1].Value.Trim()).Distinct().ToList();
        Assert.Equal(["CLK_GLOBAL_MEM_FENCE"], barriers);
    }
}
