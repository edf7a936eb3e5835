using System.CommandLine;
using IlgpuVae.Model;
using IlgpuVae.Runs;
using IlgpuVae.Runs.Settings;
using IlgpuVae.Settings;
using IlgpuVae.Training;

namespace IlgpuVae.Cli.Commands;

/// <summary><c>train</c>: the main job. With no options: procedural sprites, the InfoVAE preset, the best accelerator.</summary>
static class TrainCommand
{
    public static Command Create(TextWriter output, CancellationToken stop)
    {
        var settings = new SettingOptions<RunConfig>();
        var outDir = new Option<string?>("--out") { Description = "Run folder (default: a new folder under runs/)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder to --epochs in total" };
        var command = new Command("train", "Train a model and write a run folder (config, metrics, checkpoint, pictures).");
        foreach (var option in settings.Options.Append(outDir).Append(resume)) command.Options.Add(option);
        command.SetAction(parse =>
        {
            // Under mpiexec every process runs this command; process 0 reports and writes the run folder.
            using var mpi = MpiLink.FromEnvironment();
            try
            {
                var config = settings.Bind(parse).WithDefaultsFor(settings.Given(parse));
                bool resuming = parse.GetValue(resume) is not null;
                // A new run's settings of pieces it does not have are refused; a resumed run keeps its own (ResumeOptions).
                if (!resuming) RunSettings.RequireChosenPieces(config, settings.Given(parse));
                var observer = ConsoleObserver.For(output);
                using var signals = new StopSignals(stop, mpi is { Rank: > 0 } ? _ => { } : observer.Info);
                var progress = mpi is { Rank: > 0 } ? null : observer;
                IProcessLink processes = (IProcessLink?)mpi ?? SingleProcess.Instance;
                bool stopped = false;
                observer.Run(() =>
                {
                    using var vae = parse.GetValue(resume) is string folder
                        ? Vae.ResumeAsProcess(folder, saved => ResumeOptions.Apply(parse, settings, config, saved, folder), progress, signals.Token, processes)
                        : Vae.TrainAsProcess(config, parse.GetValue(outDir) ?? RunFolder.NewDefaultPath(), progress, signals.Token, processes);
                    stopped = vae.Stopped;
                });
                // A stopped run exits as the signal would have (130, 143), so a script can tell it from a finished one.
                return stopped ? signals.ExitCode ?? StopSignals.InterruptedExit : 0;
            }
            catch (Exception e) when (mpi is not null)
            {
                mpi.Fail(e, Console.Error);
                return Errors.UserError;
            }
        });
        return command;
    }
}
