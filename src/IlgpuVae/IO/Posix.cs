using System.Runtime.InteropServices;

namespace IlgpuVae.IO;

/// <summary>
/// The few file-system calls .NET does not offer, made through libc on Linux and macOS: flushing a folder's entries
/// to disk (a rename is durable only once its folder is), creating a folder only if it does not exist (an atomic
/// claim), and reading a file another process holds locked (.NET's own reads take a shared lock, which an exclusive
/// one refuses). Elsewhere each falls back to what .NET can do.
/// </summary>
internal static class Posix
{
    static bool Available => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    // open(2) flags; O_RDONLY is 0 everywhere, O_DIRECTORY only narrows and is left out for portability.
    const int ReadOnly = 0;
    const int Exists = 17; // EEXIST on Linux and macOS

    [DllImport("libc", SetLastError = true)] static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);
    [DllImport("libc", SetLastError = true)] static extern int fsync(int fd);
    [DllImport("libc", SetLastError = true)] static extern int close(int fd);
    [DllImport("libc", SetLastError = true)] static extern nint read(int fd, byte[] buffer, nint count);
    [DllImport("libc", SetLastError = true)] static extern int mkdir([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);
    [DllImport("libc", SetLastError = true)] static extern int kill(int pid, int signal);

    /// <summary>
    /// Flushes <paramref name="folder"/>'s entries (the names that renames and new files put there) to disk. A file
    /// system that cannot sync a folder is left as it is: the data of the files themselves are flushed separately.
    /// </summary>
    public static void SyncFolder(string folder)
    {
        if (!Available) return;
        int fd = open(folder, ReadOnly);
        if (fd < 0) return;
        try
        {
            _ = fsync(fd); // some file systems cannot sync a folder (EINVAL): nothing more to do there
        }
        finally
        {
            _ = close(fd); // a read-only descriptor: closing it loses nothing
        }
    }

    /// <summary>Creates <paramref name="path"/> (its parent must exist); false when something already has that name.</summary>
    public static bool TryCreateFolder(string path)
    {
        if (!Available)
        {
            if (Directory.Exists(path) || File.Exists(path)) return false;
            Directory.CreateDirectory(path);
            return true;
        }
        if (mkdir(path, Convert.ToUInt32("777", 8)) == 0) return true;
        int error = Marshal.GetLastPInvokeError();
        if (error == Exists) return false;
        throw new IOException($"Could not create the folder '{path}' ({Marshal.GetPInvokeErrorMessage(error)}).", error);
    }

    /// <summary>The first <paramref name="limit"/> bytes of a file as text, read without taking a lock; null if it cannot be read.</summary>
    public static string? ReadUnlocked(string path, int limit = 4096)
    {
        if (!Available) return null;
        int fd = open(path, ReadOnly);
        if (fd < 0) return null;
        try
        {
            var buffer = new byte[limit];
            nint n = read(fd, buffer, limit);
            return n < 0 ? null : System.Text.Encoding.UTF8.GetString(buffer, 0, (int)n);
        }
        finally
        {
            _ = close(fd); // a read-only descriptor: closing it loses nothing
        }
    }

    /// <summary>Ends this process at once, as <c>kill -9</c> would: no finally block, no flush. For crash tests only.</summary>
    public static void KillThisProcess()
    {
        if (Available) _ = kill(Environment.ProcessId, 9); // should it fail, FailFast below ends the process all the same
        Environment.FailFast("Killed by a crash-test hook.");
    }

    /// <summary>Whether <paramref name="e"/> says the disk (or the user's quota) is full.</summary>
    public static bool IsDiskFull(Exception e) => e is IOException &&
        (OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) is 0x70 or 0x27 : e.HResult is 28 or 122); // ENOSPC, EDQUOT (Linux)
}
