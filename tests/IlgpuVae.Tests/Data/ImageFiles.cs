using SkiaSharp;

namespace IlgpuVae.Tests.Data;

/// <summary>Writes PNG and JPEG files for the image-folder tests, drawn pixel by pixel.</summary>
internal static class ImageFiles
{
    /// <summary>
    /// Writes a <paramref name="width"/>×<paramref name="height"/> image whose pixel (x, y) is
    /// <paramref name="pixel"/>(x, y), creating the folder. The format follows the extension: .png (lossless, with
    /// alpha) or .jpg / .jpeg (quality 95). Returns the path.
    /// </summary>
    public static string Write(string path, int width, int height, Func<int, int, SKColor> pixel)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                bitmap.SetPixel(x, y, pixel(x, y));
        var format = Path.GetExtension(path).ToLowerInvariant() is ".jpg" or ".jpeg" ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Png;
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(format, 95) ?? throw new InvalidOperationException($"cannot encode {path}");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    /// <summary>A grey image whose every pixel is <paramref name="level"/>.</summary>
    public static string Grey(string path, int width, int height, byte level) =>
        Write(path, width, height, (_, _) => new SKColor(level, level, level));

    /// <summary>A grey level that encodes a number, for telling images apart after loading: 3 + 7·n.</summary>
    public static byte Level(int n) => (byte)(3 + 7 * n);

    /// <summary>
    /// Inserts an EXIF block with the given orientation tag (1 … 8) right after a JPEG's start-of-image marker.
    /// </summary>
    public static void SetExifOrientation(string jpegPath, ushort orientation)
    {
        byte[] jpeg = File.ReadAllBytes(jpegPath);
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, // big-endian TIFF header, first IFD at offset 8
            0, 1,                                    // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1,            // tag 0x0112 Orientation, type SHORT, count 1
            (byte)(orientation >> 8), (byte)orientation, 0, 0,
            0, 0, 0, 0,                              // no next IFD
        ];
        byte[] exif = [(byte)'E', (byte)'x', (byte)'i', (byte)'f', 0, 0, .. tiff];
        int length = exif.Length + 2;
        byte[] segment = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. exif];
        File.WriteAllBytes(jpegPath, [.. jpeg.AsSpan(0, 2), .. segment, .. jpeg.AsSpan(2)]);
    }
}
