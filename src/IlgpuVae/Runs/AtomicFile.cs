namespace IlgpuVae.Runs;

/// <summary>Writes that never leave a half-written file: a temporary file beside the target, then a rename.</summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string text) => Write(path, tmp => File.WriteAllText(tmp, text));

    /// <summary>Runs <paramref name="writeTo"/> on a temporary path, flushes it, then moves it over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<string> writeTo)
    {
        string full = Path.GetFullPath(path);
        string tmp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.tmp-{Guid.NewGuid():N}{Path.GetExtension(full)}");
        try
        {
            writeTo(tmp);
            using (var f = new FileStream(tmp, FileMode.Open, FileAccess.ReadWrite)) f.Flush(flushToDisk: true);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
