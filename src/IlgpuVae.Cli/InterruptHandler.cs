namespace IlgpuVae.Cli;

/// <summary>
/// Ctrl+C asks the run to stop after the step in progress (the last complete checkpoint is kept);
/// a second Ctrl+C ends the process at once.
/// </summary>
sealed class InterruptHandler : IDisposable
{
    readonly CancellationTokenSource source;
    readonly TextWriter output;

    public InterruptHandler(CancellationToken outer, TextWriter output)
    {
        source = CancellationTokenSource.CreateLinkedTokenSource(outer);
        this.output = output;
        Console.CancelKeyPress += OnCancel;
    }

    public CancellationToken Token => source.Token;

    void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (source.IsCancellationRequested) return; // the second press terminates
        e.Cancel = true;
        output.WriteLine("Stopping after this step (press Ctrl+C again to quit at once)…");
        source.Cancel();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        source.Dispose();
    }
}
