using System.Security.Cryptography;

namespace IlgpuVae.Data;

/// <summary>
/// Downloads files into a folder, each to a temporary name first and renamed only once its MD5 matches the
/// published one, so an interrupted or damaged download never leaves a file that looks complete.
/// </summary>
internal static class DataDownloader
{
    // Offline machines fail at the connection, so that is bounded tightly; the whole request (body included,
    // buffered by HttpClient) gets longer, since the largest file is 26 MB.
    static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(20), RequestTimeout = TimeSpan.FromMinutes(3);

    /// <summary>
    /// Fetches <c>baseUrl + file</c> for each (file, md5) into <paramref name="folder"/>, skipping files already
    /// there with the right MD5. Throws <see cref="HttpRequestException"/>, <see cref="OperationCanceledException"/>
    /// (timeout), <see cref="IOException"/> or <see cref="DataFormatException"/> (checksum mismatch).
    /// </summary>
    public static void Download(string baseUrl, IReadOnlyList<(string File, string Md5)> files, string folder,
        TextWriter? log)
    {
        Directory.CreateDirectory(folder);
        using var client = new HttpClient(new SocketsHttpHandler { ConnectTimeout = ConnectTimeout })
        {
            Timeout = RequestTimeout,
        };
        foreach (var (file, md5) in files)
        {
            string target = Path.Combine(folder, file);
            if (File.Exists(target) && Md5Of(target) == md5)
                continue;
            string url = baseUrl + file, temp = $"{target}.{Guid.NewGuid():N}.part";
            log?.WriteLine($"downloading {url} to {folder}");
            try
            {
                using (var response = client.Send(new HttpRequestMessage(HttpMethod.Get, url)))
                {
                    response.EnsureSuccessStatusCode();
                    using var output = File.Create(temp);
                    response.Content.ReadAsStream().CopyTo(output);
                }
                string actual = Md5Of(temp);
                if (actual != md5)
                    throw new DataFormatException($"Downloaded {url} has MD5 {actual}, expected {md5}: the download " +
                        "is damaged or the file changed upstream. It was discarded; try again or fetch it by hand.");
                File.Move(temp, target, overwrite: true);
            }
            finally
            {
                File.Delete(temp); // no-op once renamed
            }
        }
    }

    static string Md5Of(string path)
    {
        using var stream = File.OpenRead(path);
#pragma warning disable CA5351 // MD5 only compares a download with the checksum its publisher gives; nothing relies on it resisting collisions
        return Convert.ToHexStringLower(MD5.HashData(stream));
#pragma warning restore CA5351
    }
}
