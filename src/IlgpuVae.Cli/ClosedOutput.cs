using System.Text;

namespace IlgpuVae.Cli;

/// <summary>
/// Standard output that may be closed (<c>&gt;&amp;-</c>) or a pipe whose reader has gone (<c>| head</c>): the first
/// failed write says so once on standard error, and the rest of the output is discarded, so the command still does its
/// work (a training run still writes its folder) instead of ending with .NET's "Access to the path is denied".
/// </summary>
sealed class ClosedOutput(TextWriter inner, TextWriter error) : TextWriter
{
    volatile bool closed;

    /// <summary>Console.Out, guarded where it is not a terminal (a closed descriptor counts as redirected); a terminal as it is, for the live progress line.</summary>
    public static TextWriter ForConsole() =>
        Console.IsOutputRedirected ? Synchronized(new ClosedOutput(Console.Out, Console.Error)) : Console.Out;

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value) => Guard(() => inner.Write(value));
    public override void Write(string? value) => Guard(() => inner.Write(value));
    public override void Write(char[] buffer, int index, int count) => Guard(() => inner.Write(buffer, index, count));
    public override void WriteLine(string? value) => Guard(() => inner.WriteLine(value));
    public override void Flush() => Guard(inner.Flush);

    void Guard(Action write)
    {
        if (closed) return;
        try
        {
            write();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            closed = true;
            try
            {
                // .NET reports a closed descriptor as "Access to the path is denied", which names no path: say what happened.
                string why = IO.Posix.IsDiskFull(e) ? "its disk is full" : "it is closed or nothing reads it";
                error.WriteLine($"warning: standard output cannot be written ({why}); the rest of the output is discarded.");
            }
            catch (Exception e2) when (e2 is IOException or UnauthorizedAccessException)
            {
                // Standard error is gone too: nothing is left to tell.
            }
        }
    }
}
