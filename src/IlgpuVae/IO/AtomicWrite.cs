namespace IlgpuVae.IO;

/// <summary>
/// Replaces a file all at once or not at all: the bytes go to <c>path + ".tmp-" + random</c> in the same folder,
/// are flushed to disk, and only then renamed over the target; then the folder is flushed too, so the rename itself
/// survives a power loss. A rename within one folder is atomic, so readers (and a crash) see the old file or the new
/// one, never a half-written one; on failure the temporary file is deleted and the old file is left as it was.
/// </summary>
internal static class AtomicWrite
{
    public static void ReplaceText(string path, string text) =>
        Replace(path, stream => stream.Write(System.Text.Encoding.UTF8.GetBytes(text)));

    /// <summary>What a temporary file's name holds between the target's name and its random part.</summary>
    public const string TempMarker = ".tmp-";

    /// <summary>Whether <paramref name="path"/> names a temporary file of this class: the marker, then 32 hexadecimal digits.</summary>
    public static bool IsTemporary(string path)
    {
        string name = Path.GetFileName(path);
        int at = name.LastIndexOf(TempMarker, StringComparison.Ordinal);
        return at > 0 && name.Length - at - TempMarker.Length == 32 && name[(at + TempMarker.Length)..].All(char.IsAsciiHexDigitLower);
    }

    public static void Replace(string path, Action<Stream> write)
    {
        string target = Path.GetFullPath(path);
        string temp = $"{target}{TempMarker}{Guid.NewGuid():N}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
            Posix.SyncFolder(Path.GetDirectoryName(target)!);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
