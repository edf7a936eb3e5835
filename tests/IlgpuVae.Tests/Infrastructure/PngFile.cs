using SkiaSharp;

namespace IlgpuVae.Tests.Infrastructure;

internal static class PngFile
{
    static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Decodes <paramref name="path"/>, failing the test unless it is a PNG (not, say, a BMP) that SkiaSharp decodes.</summary>
    public static SKBitmap Decode(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.AsSpan().StartsWith(Signature), $"{path} is not a PNG");
        return Assert.IsType<SKBitmap>(SKBitmap.Decode(bytes));
    }

    public static (int Width, int Height) Size(string path)
    {
        using var bitmap = Decode(path);
        return (bitmap.Width, bitmap.Height);
    }
}
