using System.Diagnostics;
using IlgpuVae.Model;
using IlgpuVae.Runs;

namespace IlgpuVae.Cli;

/// <summary>
/// Shows a training run: on a terminal, one status line redrawn in place (progress, live loss terms, images/s),
/// cut to the terminal's width so it never wraps, with every other line printed above it; plain lines when the
/// output is redirected (CI, pipes) or is not the console. Reports arrive from the training thread and, for a
/// stop request, from a signal's thread.
/// </summary>
abstract class ConsoleObserver : IProgress<TrainingProgress>
{
    protected readonly Stopwatch EpochClock = new();

    public static ConsoleObserver For(TextWriter output) =>
        ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "" or "dumb")
            ? new Live(output) : new Plain(output);

    /// <summary>Runs the session; the status line, if any, is gone when it returns or throws.</summary>
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

    /// <summary>A line of its own; safe from any thread.</summary>
    public abstract void Info(string message);
    public abstract void EpochStarted(int epoch, int epochs, int batches, int batchSize);
    public abstract void StepCompleted(int batch, int batches, LossTerms terms);
    public abstract void EpochCompleted(EpochReport report);

    protected static string Terms(LossTerms t) => $"loss {t.Loss:F3} (recon {t.Recon:F3}, kl {t.Kl:F3}, mmd {t.Mmd:F5})";

    /// <summary>An epoch's line with every term (about 175 characters).</summary>
    protected static string Summary(EpochReport r) =>
        $"epoch {r.Epoch}/{r.Epochs}  train {Terms(r.Train)}  test {Terms(r.Test)}  test −ELBO {r.Test.NegativeElbo:F3}  " +
        $"{r.Seconds:F1} s  {r.ImagesPerSecond:F0} images/s";

    /// <summary>An epoch's line for a narrow terminal (about 80 characters): the losses; metrics.jsonl holds the terms.</summary>
    protected static string CompactSummary(EpochReport r) =>
        $"epoch {r.Epoch}/{r.Epochs}  train {r.Train.Loss:F3}  test {r.Test.Loss:F3}  test −ELBO {r.Test.NegativeElbo:F3}  " +
        $"{r.Seconds:F1} s  {r.ImagesPerSecond:F0} images/s";

    sealed class Plain(TextWriter output) : ConsoleObserver
    {
        int every = 1;
        int epoch, epochs;

        public override void Info(string message)
        {
            lock (output) output.WriteLine(message);
        }

        public override void EpochStarted(int epoch, int epochs, int batches, int batchSize)
        {
            (this.epoch, this.epochs) = (epoch, epochs);
            every = Math.Max(1, batches / 4);
            EpochClock.Restart();
        }

        public override void StepCompleted(int batch, int batches, LossTerms terms)
        {
            if (batch % every == 0 && batch < batches) Info($"epoch {epoch}/{epochs}  step {batch}/{batches}  {Terms(terms)}");
        }

        public override void EpochCompleted(EpochReport report) => Info(Summary(report));
    }

    /// <summary>The terminal's status line: "\r" and erase-line redraw it, and it is erased before any other line.</summary>
    sealed class Live(TextWriter output) : ConsoleObserver
    {
        const string EraseLine = "\r\u001b[K";
        const int BarCells = 20;
        static readonly TimeSpan RedrawEvery = TimeSpan.FromMilliseconds(100);
        readonly object gate = new();
        readonly Stopwatch sinceDrawn = new();
        string? status;
        bool toldCompact;
        int epoch, epochs, batchSize;

        public override void Run(Action session)
        {
            try
            {
                session();
            }
            finally
            {
                SetStatus(null);
            }
        }

        public override void Info(string message)
        {
            lock (gate)
            {
                output.Write(status is null ? message + "\n" : $"{EraseLine}{message}\n{Fit(status)}");
                output.Flush();
            }
        }

        public override void EpochStarted(int epoch, int epochs, int batches, int batchSize)
        {
            (this.epoch, this.epochs, this.batchSize) = (epoch, epochs, batchSize);
            EpochClock.Restart();
            SetStatus($"epoch {epoch}/{epochs} {Bar(0, batches)}");
        }

        public override void StepCompleted(int batch, int batches, LossTerms terms)
        {
            // Redrawn ten times a second at most: a terminal that draws every step slows a fast run.
            lock (gate)
                if (batch < batches && sinceDrawn.Elapsed < RedrawEvery) return;
            double imagesPerSecond = batch * batchSize / Math.Max(EpochClock.Elapsed.TotalSeconds, 1e-9);
            SetStatus($"epoch {epoch}/{epochs} {Bar(batch, batches)}  {imagesPerSecond:F0} images/s  {Terms(terms)}");
        }

        public override void EpochCompleted(EpochReport report)
        {
            SetStatus(null);
            string full = Summary(report);
            if (full.Length < Width()) Info(full);
            else
            {
                if (!toldCompact) Info("(A narrow terminal: each epoch's line shows the losses; metrics.jsonl has every term.)");
                toldCompact = true;
                Info(CompactSummary(report));
            }
        }

        /// <summary>Draws <paramref name="text"/> as the status line, or erases it (null).</summary>
        void SetStatus(string? text)
        {
            lock (gate)
            {
                if (text is null && status is null) return;
                status = text;
                output.Write(text is null ? EraseLine : EraseLine + Fit(text));
                output.Flush();
                sinceDrawn.Restart();
            }
        }

        static string Bar(int done, int total)
        {
            int cells = total == 0 ? BarCells : (int)((long)BarCells * done / total);
            return $"{new string('━', cells)}{new string('─', BarCells - cells)} {(total == 0 ? 100 : 100 * done / total),3}% {done}/{total}";
        }

        /// <summary>
        /// The text cut to three columns less than the terminal: the cursor never wraps to a new line, even when the
        /// terminal echoes "^C" after it, so erasing the line erases all of it.
        /// </summary>
        static string Fit(string text)
        {
            int width = Width() - 3;
            return text.Length <= width ? text : text[..Math.Max(0, width - 1)] + "…";
        }

        static int Width()
        {
            try
            {
                return Console.WindowWidth is > 0 and var w ? w : 80;
            }
            catch (IOException)
            {
                return 80;
            }
        }
    }
}
