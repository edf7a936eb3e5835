using System.CommandLine;
using IlgpuVae.Cli.Commands;

namespace IlgpuVae.Cli;

/// <summary>The IlgpuVae command line: train, eval, sample, compare, export, devices, bench, golden, kernels.</summary>
public static class Program
{
    public static int Main(string[] args) => Run(args, ClosedOutput.ForConsole(), Console.Error);

    /// <summary>Parses and runs one command; tests call this with their own writers.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken stop = default)
    {
        var root = Commands(output, stop);
        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            var parsed = root.Parse(args);
            if (ParseErrors.Describe(parsed) is string problem)
            {
                error.WriteLine(Errors.Line(problem));
                return Errors.UserError;
            }
            return parsed.Invoke(config);
        }
        catch (Exception e) when (Errors.IsUserError(e))
        {
            error.WriteLine(Errors.Line(e.Message));
            return Errors.UserError;
        }
        catch (InternalFaultException e)
        {
            error.WriteLine(Errors.Line(e.Message));
            return Errors.InternalError;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Anything else is a bug too: one line that says so, never .NET's own report.
            error.WriteLine(Errors.Line(new InternalFaultException($"{e.GetType().Name}: {e.Message}").Message));
            return Errors.InternalError;
        }
    }

    /// <summary>Every command with its options and arguments, writing to <paramref name="output"/>; nothing runs until one is invoked.</summary>
    public static RootCommand Commands(TextWriter output, CancellationToken stop = default) =>
        new("Train and evaluate VAEs, β-VAEs, InfoVAEs and MMD-VAEs with ILGPU kernels (CUDA, OpenCL or CPU).")
        {
            TrainCommand.Create(output, stop),
            EvalCommand.Create(output),
            SampleCommand.Create(output),
            CompareCommand.Create(output),
            ExportCommand.Create(output),
            DevicesCommand.Create(output),
            BenchCommand.Create(output),
            GoldenCommand.Create(output),
            KernelsCommand.Create(output),
        };
}
