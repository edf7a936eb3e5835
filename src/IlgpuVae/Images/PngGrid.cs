using IlgpuVae.Runs;
using SkiaSharp;

namespace IlgpuVae.Images;

/// <summary>
/// Grayscale images laid out in a grid and written as an 8-bit PNG: <c>columns</c> images per row, a
/// mid-gray border of <c>padding</c> pixels around and between them, each pixel upscaled <c>scale</c> times.
/// Values are clamped to [0, 1]; NaN draws black.
/// </summary>
public static class PngGrid
{
    const byte Border = 128;

    /// <summary>The PNG's size: columns·(W·scale + padding) + padding wide, and likewise tall for the rows.</summary>
    public static (int Width, int Height) GridSize(int count, int height, int width, int columns, int padding, int scale)
    {
        int cols = Math.Max(1, Math.Min(columns, count)), rows = Math.Max(1, (count + columns - 1) / columns);
        return (cols * (width * scale + padding) + padding, rows * (height * scale + padding) + padding);
    }

    public static void Write(string path, float[] pixels, int count, int height, int width, int columns, int padding = 2, int scale = 1)
    {
        if (count < 0 || height <= 0 || width <= 0 || columns <= 0 || padding < 0 || scale <= 0 || pixels.Length < (long)count * height * width)
            throw new ArgumentException($"Cannot lay out {count} images of {height}×{width} from {pixels.Length} values in {columns} columns.");
        var (w, h) = GridSize(count, height, width, columns, padding, scale);
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Gray8, SKAlphaType.Opaque));
        var span = bitmap.GetPixelSpan();
        var bytes = new byte[span.Length];
        Array.Fill(bytes, Border);
        int stride = bitmap.RowBytes;
        for (int i = 0; i < count; i++)
        {
            int x0 = padding + i % columns * (width * scale + padding), y0 = padding + i / columns * (height * scale + padding);
            for (int y = 0; y < height * scale; y++)
                for (int x = 0; x < width * scale; x++)
                    bytes[(y0 + y) * stride + x0 + x] = ToByte(pixels[(long)i * height * width + y / scale * width + x / scale]);
        }
        unsafe
        {
            fixed (byte* source = bytes)
                Buffer.MemoryCopy(source, (void*)bitmap.GetPixels(), bytes.Length, bytes.Length);
        }
        AtomicFile.Write(path, tmp =>
        {
            using var image = SKImage.FromBitmap(bitmap);
            using var data = image.Encode(SKEncodedImageFormat.Png, 100);
            using var stream = File.Create(tmp);
            data.SaveTo(stream);
        });
    }

    static byte ToByte(float v) => float.IsNaN(v) ? (byte)0 : (byte)MathF.Round(Math.Clamp(v, 0f, 1f) * 255f);
}
