using IlgpuVae.IO;
using SkiaSharp;

namespace IlgpuVae.Images;

/// <summary>
/// Grayscale images laid out in a grid and written as an 8-bit grayscale PNG. Image i sits in row i / columns,
/// column i % columns; <c>padding</c> pixels of <see cref="Border"/> gray surround and separate the cells;
/// each source pixel becomes a <c>scale</c> × <c>scale</c> block. Pixels are row-major floats, one image after
/// another; values are clamped to [0, 1] (0 black, 1 white) and NaN draws black.
/// </summary>
public static class PngGrid
{
    /// <summary>The padding's gray level: mid-gray, distinct from both a black background and white strokes.</summary>
    public const byte Border = 128;

    /// <summary>
    /// The PNG's size: min(count, columns)·(width·scale + padding) + padding wide and
    /// ⌈count / columns⌉·(height·scale + padding) + padding tall, counting one cell when count is 0.
    /// </summary>
    /// <exception cref="ArgumentException">A size is not positive, padding or count is negative, or the image would be too large.</exception>
    public static (int Width, int Height) GridSize(int count, int height, int width, int columns, int padding, int scale)
    {
        if (count < 0 || height <= 0 || width <= 0 || columns <= 0 || padding < 0 || scale <= 0)
            throw new ArgumentException($"Cannot lay out {count} images of {height}×{width} in {columns} columns with padding {padding} and scale {scale}.");
        long cols = Math.Clamp(count, 1, columns), rows = Math.Max(1, (count + (long)columns - 1) / columns);
        long w = cols * ((long)width * scale + padding) + padding, h = rows * ((long)height * scale + padding) + padding;
        if (w * h > Array.MaxLength) throw new ArgumentException($"A {w}×{h} grid is too large for one image.");
        return ((int)w, (int)h);
    }

    /// <summary>Writes the grid to <paramref name="path"/> atomically (a temporary file, then a rename).</summary>
    /// <exception cref="ArgumentException">The layout is invalid (see <see cref="GridSize"/>) or
    /// <paramref name="pixels"/> holds fewer than count·height·width values.</exception>
    public static void Write(string path, float[] pixels, int count, int height, int width, int columns, int padding = 2, int scale = 1)
    {
        var (w, h) = GridSize(count, height, width, columns, padding, scale);
        if (pixels.Length < (long)count * height * width)
            throw new ArgumentException($"{count} images of {height}×{width} need {(long)count * height * width} pixels; {pixels.Length} given.", nameof(pixels));
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Gray8, SKAlphaType.Opaque));
        var canvas = bitmap.GetPixelSpan();
        canvas.Fill(Border);
        for (int i = 0; i < count; i++)
        {
            var source = pixels.AsSpan(i * height * width, height * width);
            int left = padding + i % columns * (width * scale + padding), top = padding + i / columns * (height * scale + padding);
            for (int y = 0; y < height * scale; y++)
            {
                var row = canvas.Slice((top + y) * bitmap.RowBytes + left, width * scale);
                for (int x = 0; x < row.Length; x++) row[x] = Gray(source[y / scale * width + x / scale]);
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var encoded = image.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode a {w}×{h} PNG.");
        AtomicWrite.Replace(path, encoded.SaveTo);
    }

    static byte Gray(float v) => float.IsNaN(v) ? (byte)0 : (byte)(Math.Clamp(v, 0f, 1f) * 255f + 0.5f);
}
