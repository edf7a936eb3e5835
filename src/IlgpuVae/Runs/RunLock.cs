using IlgpuVae.IO;

namespace IlgpuVae.Runs;

/// <summary>
/// The one writer of a run folder: an exclusive OS lock on <see cref="FileName"/> in the folder (.NET takes flock on
/// Unix, a sharing lock on Windows), held open for the whole run. The kernel drops it when the process ends however it
/// ends, so a killed run never blocks its own resume. The file holds the holder's process id and host, which a refused
/// second writer names; it stays in the folder afterwards, as deleting it could race with a new holder.
/// </summary>
internal sealed class RunLock : IDisposable
{
    /// <summary>The lock file's name in a run folder.</summary>
    public const string FileName = "train.lock";

    readonly FileStream stream;

    RunLock(FileStream stream) => this.stream = stream;

    /// <summary>Takes the lock of <paramref name="folder"/> (which must exist), or throws <see cref="RunFolderException"/> naming its holder.</summary>
    public static RunLock Acquire(string folder)
    {
        var stream = Open(folder);
        try
        {
            stream.SetLength(0);
            stream.Write(System.Text.Encoding.UTF8.GetBytes($"pid {Environment.ProcessId} host {Environment.MachineName}\n"));
            stream.Flush();
            return new RunLock(stream);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Throws as <see cref="Acquire"/> does when another process holds <paramref name="folder"/>'s lock; takes nothing, writes nothing.</summary>
    public static void RequireFree(string folder)
    {
        if (File.Exists(Path.Combine(folder, FileName))) Open(folder).Dispose();
    }

    static FileStream Open(string folder)
    {
        string path = Path.Combine(folder, FileName);
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException) && !Posix.IsDiskFull(e))
        {
            throw new RunFolderException($"'{folder}' is being trained by another process ({Holder(path)}); a run folder has one writer. " +
                                         $"Let that run finish (or stop it: Ctrl+C saves where it is) before you train here again, or use another --out.");
        }
    }

    /// <summary>Who holds the lock at <paramref name="path"/>, as its file says; unknown where it cannot be read.</summary>
    static string Holder(string path) =>
        Posix.ReadUnlocked(path)?.Trim() is { Length: > 0 } text ? text : "process id and host unknown";

    /// <summary>Releases the lock; the file stays.</summary>
    public void Dispose() => stream.Dispose();
}
