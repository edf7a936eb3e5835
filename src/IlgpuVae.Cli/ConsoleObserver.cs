using System.Diagnostics;
using IlgpuVae.Model;
using IlgpuVae.Runs;
using Spectre.Console;

namespace IlgpuVae.Cli;

/// <summary>
/// Shows a training run: a live Spectre.Console progress bar per epoch on a terminal, plain lines when the
/// output is redirected (CI, pipes) or is not the console.
/// </summary>
abstract class ConsoleObserver : IProgress<TrainingProgress>
{
    protected readonly Stopwatch EpochClock = new();
    protected int BatchSize = 1;

    public static ConsoleObserver For(TextWriter output) =>
        ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive
            ? new Live() : new Plain(output);

    /// <summary>Runs the session inside whatever display this observer keeps alive.</summary>
    public virtual void Run(Action session) => session();

    /// <summary>Called on the training thread, so the display follows the run step by step.</summary>
    public void Report(TrainingProgress p)
    {
        switch (p.Stage)
        {
            case TrainingStage.Message: Info(p.Message ?? ""); break;
            case TrainingStage.EpochStarted: EpochStarted(p.Epoch, p.Epochs, p.Steps, p.BatchSize); break;
            case TrainingStage.Step: StepCompleted(p.Step, p.Steps, p.Terms); break;
            case TrainingStage.EpochCompleted: EpochCompleted(p.Report!); break;
        }
    }

    public abstract void Info(string message);
    public abstract void EpochStarted(int epoch, int epochs, int batches, int batchSize);
    public abstract void StepCompleted(int batch, int batches, LossTerms terms);
    public abstract void EpochCompleted(EpochReport report);

    protected static string Terms(LossTerms t) => $"loss {t.Loss:F3} (recon {t.Recon:F3}, kl {t.Kl:F3}, mmd {t.Mmd:F5})";

    protected static string Summary(EpochReport r) =>
        $"epoch {r.Epoch}/{r.Epochs}  train {Terms(r.Train)}  test {Terms(r.Test)}  test −ELBO {r.Test.NegativeElbo:F3}  " +
        $"{r.Seconds:F1} s  {r.ImagesPerSecond:F0} images/s";

    sealed class Plain(TextWriter output) : ConsoleObserver
    {
        int every = 1;
        int epoch, epochs;

        public override void Info(string message) => output.WriteLine(message);

        public override void EpochStarted(int epoch, int epochs, int batches, int batchSize)
        {
            (this.epoch, this.epochs, BatchSize) = (epoch, epochs, batchSize);
            every = Math.Max(1, batches / 4);
            EpochClock.Restart();
        }

        public override void StepCompleted(int batch, int batches, LossTerms terms)
        {
            if (batch % every == 0 && batch < batches)
                output.WriteLine($"epoch {epoch}/{epochs}  step {batch}/{batches}  {Terms(terms)}");
        }

        public override void EpochCompleted(EpochReport report) => output.WriteLine(Summary(report));
    }

    sealed class Live : ConsoleObserver
    {
        ProgressContext? context;
        ProgressTask? task;
        int epoch, epochs;

        public override void Run(Action session) => AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                context = ctx;
                session();
            });

        public override void Info(string message) => AnsiConsole.MarkupLine(Markup.Escape(message));

        public override void EpochStarted(int epoch, int epochs, int batches, int batchSize)
        {
            (this.epoch, this.epochs, BatchSize) = (epoch, epochs, batchSize);
            task = context!.AddTask($"epoch {epoch}/{epochs}", maxValue: batches);
            EpochClock.Restart();
        }

        public override void StepCompleted(int batch, int batches, LossTerms terms)
        {
            if (task is null) return;
            task.Value = batch;
            double imagesPerSecond = batch * BatchSize / Math.Max(EpochClock.Elapsed.TotalSeconds, 1e-9);
            task.Description = Markup.Escape($"epoch {epoch}/{epochs}  {Terms(terms)}  {imagesPerSecond:F0} images/s");
        }

        public override void EpochCompleted(EpochReport report)
        {
            task?.StopTask();
            AnsiConsole.MarkupLine(Markup.Escape(Summary(report)));
        }
    }
}
