using System.CommandLine;
using IlgpuVae.Compute;

namespace IlgpuVae.Cli.Commands;

/// <summary>
/// <c>kernels</c>: every kernel a GPU loads, compiled to PTX (sm_60, sm_80, sm_90) and OpenCL C with no GPU
/// present, then — where they are installed — assembled by ptxas (registers, spills) and compiled by clang.
/// Exit code 1 when anything fails to compile or a kernel spills registers.
/// </summary>
static class KernelsCommand
{
    public static Command Create(TextWriter output)
    {
        var outFolder = new Option<string?>("--out") { Description = "A folder to write each kernel's .ptx and .cl into" };
        var command = new Command("kernels",
            "Compile every GPU kernel to PTX and OpenCL C without a GPU; with ptxas and clang installed, assemble them and report registers and spills.")
        {
            outFolder,
        };
        command.SetAction(parse =>
        {
            string? folder = parse.GetValue(outFolder);
            if (folder is not null) Directory.CreateDirectory(folder);
            string? ptxas = GpuCompilation.FindPtxas(), clang = GpuCompilation.FindClang();
            output.WriteLine($"ptxas: {ptxas ?? "not found (scripts/install-gpu-compilers.sh installs it)"}; clang: {clang ?? "not found"}");
            var archs = GpuCompilation.Architectures;
            output.WriteLine($"{"kernel",-44} {string.Join(" ", archs.Select(a => $"{$"sm_{a.Major}{a.Minor} regs/spill",16}"))}  opencl");
            int failures = 0;
            foreach (var kernel in GpuCompilation.GpuKernels())
            {
                var cells = new List<string>();
                foreach (var arch in archs)
                    cells.Add(Cell(() =>
                    {
                        string ptx = GpuCompilation.Ptx(kernel, arch);
                        if (folder is not null) File.WriteAllText(Path.Combine(folder, $"{kernel.Name}.sm_{arch.Major}{arch.Minor}.ptx"), ptx);
                        if (ptxas is null) return "compiled";
                        var r = GpuCompilation.Assemble(ptxas, ptx, arch);
                        if (r.SpillStores + r.SpillLoads > 0) failures++;
                        return $"{r.Registers} / {r.SpillStores + r.SpillLoads}";
                    }, ref failures));
                string cl = Cell(() =>
                {
                    string source = GpuCompilation.OpenCl(kernel);
                    if (folder is not null) File.WriteAllText(Path.Combine(folder, $"{kernel.Name}.cl"), source);
                    if (clang is null) return "compiled";
                    GpuCompilation.CompileOpenCl(clang, source);
                    return "ok";
                }, ref failures);
                output.WriteLine($"{kernel.Name,-44} {string.Join(" ", cells.Select(c => $"{c,16}"))}  {cl}");
            }
            output.WriteLine(failures == 0 ? "Every kernel compiled, without spills." : $"{failures} failure(s) or spill(s).");
            return failures == 0 ? 0 : 1;
        });
        return command;
    }

    static string Cell(Func<string> compile, ref int failures)
    {
        try
        {
            return compile();
        }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or ILGPU.InternalCompilerException)
        {
            failures++;
            return "FAILED: " + e.Message.Split('\n')[0];
        }
    }
}
