using System.Buffers.Binary;
using System.IO.Compression;

namespace IlgpuVae.Tests.Data;

/// <summary>Builds IDX files for the tests: header bytes, gzip, and writing into a temporary folder.</summary>
internal static class IdxFiles
{
    /// <summary>The IDX encoding of unsigned bytes: 0x00 0x00 0x08 ndims, big-endian dims, data.</summary>
    public static byte[] Encode(byte[] data, params int[] dims)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
            gzip.Write(bytes);
        return output.ToArray();
    }

    /// <summary>A deterministic byte pattern of the given length.</summary>
    public static byte[] Pattern(int length, int salt = 0) =>
        [.. Enumerable.Range(0, length).Select(i => (byte)(i * 37 + salt * 11))];

    /// <summary>Writes images [count, h, w] and labels [count] (label i = i mod 10) as gzipped IDX files.</summary>
    public static void WriteSet(string folder, string imagesFile, string? labelsFile, int count, int h, int w, int salt)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, imagesFile), Gzip(Encode(Pattern(count * h * w, salt), count, h, w)));
        if (labelsFile is not null)
            File.WriteAllBytes(Path.Combine(folder, labelsFile),
                Gzip(Encode([.. Enumerable.Range(0, count).Select(i => (byte)(i % 10))], count)));
    }
}
