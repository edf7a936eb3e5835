using SkiaSharp;

namespace IlgpuVae.Tests.Cli;

internal static class Png
{
    /// <summary>Decodes a PNG and returns its size; fails the test when it does not decode.</summary>
    public static (int Width, int Height) Size(string path)
    {
        Assert.True(File.Exists(path), $"missing {path}");
        using var bitmap = SKBitmap.Decode(path);
        Assert.NotNull(bitmap);
        return (bitmap.Width, bitmap.Height);
    }
}
