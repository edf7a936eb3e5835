using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace IlgpuVae.Compute;

/// <summary>
/// Compiles the kernels a GPU loads with no GPU present: ILGPU's PTX backend, built on a plain context, turns
/// each into PTX for a chosen architecture, and its OpenCL backend into OpenCL C. Real GPU compilers then check
/// that output, still without a GPU: <c>ptxas</c> (CUDA 11.8 from Debian's non-free nvidia-cuda-toolkit, which
/// takes PTX ISA 7.8 at most, hence <see cref="Isa"/>) assembles it and reports registers and spills, and
/// <c>clang -x cl -cl-std=CL2.0 -target spir64</c> compiles the OpenCL C. <c>scripts/install-gpu-compilers.sh</c>
/// installs both.
/// </summary>
internal static partial class GpuCompilation
{
    /// <summary>The architectures every kernel is compiled for: Pascal, Ampere, Hopper.</summary>
    public static readonly IReadOnlyList<CudaArchitecture> Architectures = [CudaArchitecture.SM_60, CudaArchitecture.SM_80, CudaArchitecture.SM_90];

    /// <summary>The newest PTX ISA ptxas 11.8 reads.</summary>
    public static readonly CudaInstructionSet Isa = CudaInstructionSet.ISA_78;

    /// <summary>
    /// Every kernel <see cref="GpuKernels"/> loads — its entry points, whose bodies pull in each generic
    /// instantiation they use — read from a kernel set on a CPU accelerator shaped like a GPU.
    /// </summary>
    public static IReadOnlyList<LoadedKernel> GpuKernels()
    {
        using var device = ComputeDevice.OpenCpu(new CPUDevice(4, 1, 1), KernelChoice.Portable,
            new GpuLaunchShape(2, 1, 4, 4, 1, 1, GpuLaunchShape.SharedLimit));
        return device.Kernels.Loaded;
    }

    /// <summary>PTX for <paramref name="kernel"/> on <paramref name="architecture"/>.</summary>
    public static string Ptx(LoadedKernel kernel, CudaArchitecture architecture)
    {
        using var context = Context.Create(b => b.Default().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, Isa, null);
        return ((PTXCompiledKernel)backend.Compile(EntryPoint(kernel.Method, kernel.ExplicitlyGrouped), new KernelSpecialization())).PTXAssembly;
    }

    /// <summary>OpenCL C 2.0 for <paramref name="kernel"/>, as ILGPU writes it for a device with doubles and 64-bit atomics.</summary>
    public static string OpenCl(LoadedKernel kernel)
    {
        using var context = Context.Create(b => b.Default().EnableAlgorithms());
        using var backend = new CLBackend(context, new CLCapabilityContext(true, true, true, true, true), CLDeviceVendor.Other, CLCVersion.CL20);
        return ((CLCompiledKernel)backend.Compile(EntryPoint(kernel.Method, kernel.ExplicitlyGrouped), new KernelSpecialization())).Source;
    }

    static EntryPointDescription EntryPoint(MethodInfo method, bool grouped) => grouped
        ? EntryPointDescription.FromExplicitlyGroupedKernel(method)
        : EntryPointDescription.FromImplicitlyGroupedKernel(method);

    /// <summary>What ptxas said about one kernel: registers per thread and bytes of spill stores and loads.</summary>
    public sealed record PtxasReport(int Registers, int SpillStores, int SpillLoads, string Output);

    /// <summary>Assembles <paramref name="ptx"/> for <paramref name="architecture"/> with <c>ptxas -v</c>; throws with ptxas's words on an error.</summary>
    public static PtxasReport Assemble(string ptxas, string ptx, CudaArchitecture architecture)
    {
        string folder = Directory.CreateTempSubdirectory("ilgpuvae-ptx").FullName;
        try
        {
            string input = Path.Combine(folder, "kernel.ptx");
            File.WriteAllText(input, ptx);
            var (exit, output) = Run(ptxas, "-v", "--gpu-name", $"sm_{architecture.Major}{architecture.Minor}", "-o", Path.Combine(folder, "kernel.cubin"), input);
            if (exit != 0) throw new InvalidOperationException($"ptxas failed ({exit}): {output}");
            var used = UsedRegisters().Match(output);
            var spills = Spills().Match(output);
            if (!used.Success || !spills.Success) throw new InvalidOperationException($"ptxas said nothing about registers and spills: {output}");
            return new PtxasReport(int.Parse(used.Groups[1].Value), int.Parse(spills.Groups[1].Value), int.Parse(spills.Groups[2].Value), output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Compiles <paramref name="source"/> as OpenCL C 2.0 to SPIR with clang; throws with clang's words on an error.</summary>
    public static void CompileOpenCl(string clang, string source)
    {
        string folder = Directory.CreateTempSubdirectory("ilgpuvae-cl").FullName;
        try
        {
            string input = Path.Combine(folder, "kernel.cl");
            File.WriteAllText(input, source);
            var (exit, output) = Run(clang, "-x", "cl", "-cl-std=CL2.0", "-target", "spir64", "-Xclang", "-finclude-default-header",
                "-c", "-emit-llvm", "-o", Path.Combine(folder, "kernel.bc"), input);
            if (exit != 0) throw new InvalidOperationException($"clang failed ({exit}): {output}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// ptxas: $PTXAS, else where scripts/install-gpu-compilers.sh puts it, else on PATH; clang: $CLANG_OPENCL,
    /// else clang-15 or clang on PATH. Null when absent.
    /// </summary>
    public static string? FindPtxas() => Find("PTXAS", "/opt/ilgpuvae-gpu-tools/usr/bin/ptxas", "ptxas");

    /// <inheritdoc cref="FindPtxas"/>
    public static string? FindClang() => Find("CLANG_OPENCL", null, "clang-15", "clang");

    static string? Find(string variable, string? installed, params string[] names)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnv) return fromEnv;
        if (installed is not null && File.Exists(installed)) return installed;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (var name in names)
                if (File.Exists(Path.Combine(dir, name))) return Path.Combine(dir, name);
        return null;
    }

    static (int Exit, string Output) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    [GeneratedRegex(@"Used (\d+) registers")]
    private static partial Regex UsedRegisters();

    [GeneratedRegex(@"(\d+) bytes spill stores, (\d+) bytes spill loads")]
    private static partial Regex Spills();
}
