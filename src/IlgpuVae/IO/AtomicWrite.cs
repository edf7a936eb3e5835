namespace IlgpuVae.IO;

/// <summary>
/// Replaces a file all at once or not at all: the bytes go to <c>path + ".tmp-" + random</c> in the same folder,
/// are flushed to disk, and only then renamed over the target. A rename within one folder is atomic, so readers
/// (and a crash) see the old file or the new one, never a half-written one; on failure the temporary file is
/// deleted and the old file is left as it was.
/// </summary>
internal static class AtomicWrite
{
    public static void ReplaceText(string path, string text) =>
        Replace(path, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(text)));

    public static void Replace(string path, Action<Stream> write)
    {
        string target = Path.GetFullPath(path);
        string temp = $"{target}.tmp-{Guid.NewGuid():N}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
