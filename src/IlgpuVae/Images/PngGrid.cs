using IlgpuVae.IO;
using SkiaSharp;

namespace IlgpuVae.Images;

/// <summary>
/// Images laid out in a grid and written as a PNG: grey-scale images (1 channel) as an 8-bit grayscale PNG, colour
/// images (3 channels, R, G, B) as an opaque 8-bit RGB one. Image i sits in row i / columns, column i % columns;
/// <c>padding</c> pixels of <see cref="Border"/> gray surround and separate the cells; each source pixel becomes a
/// <c>scale</c> × <c>scale</c> block. Pixels are floats, one image after another, each channel-major (all of channel
/// 0 row by row, then channel 1, …, as in <see cref="Data.ImageSet"/>); values are clamped to [0, 1] (0 black,
/// 1 full intensity) and NaN draws 0.
/// </summary>
internal static class PngGrid
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

    /// <summary>
    /// Writes the grid of <paramref name="channels"/>-channel images (1: grey-scale, 3: RGB) to <paramref name="path"/>
    /// atomically (a temporary file, then a rename).
    /// </summary>
    /// <exception cref="ArgumentException">The layout is invalid (see <see cref="GridSize"/>), channels is neither 1
    /// nor 3, or <paramref name="pixels"/> holds fewer than count·channels·height·width values.</exception>
    public static void Write(string path, float[] pixels, int count, int height, int width, int columns, int padding = 2, int scale = 1,
        int channels = 1)
    {
        var (w, h) = GridSize(count, height, width, columns, padding, scale);
        if (channels is not (1 or 3))
            throw new ArgumentException($"Images have 1 channel (grey-scale) or 3 (RGB); got {channels}.", nameof(channels));
        long needed = (long)count * channels * height * width;
        if (pixels.Length < needed)
            throw new ArgumentException($"{count} images of {height}×{width}{(channels == 1 ? "" : $" with {channels} channels")} " +
                $"need {needed} pixels; {pixels.Length} given.", nameof(pixels));
        using var bitmap = channels == 1 ? GrayGrid(pixels, count, height, width, columns, padding, scale, w, h)
            : RgbGrid(pixels, count, height, width, columns, padding, scale, w, h);
        using var image = SKImage.FromBitmap(bitmap);
        using var encoded = image.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException($"SkiaSharp could not encode a {w}×{h} PNG.");
        AtomicWrite.Replace(path, encoded.SaveTo);
    }

    static SKBitmap GrayGrid(float[] pixels, int count, int height, int width, int columns, int padding, int scale, int w, int h)
    {
        var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Gray8, SKAlphaType.Opaque));
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
        return bitmap;
    }

    static SKBitmap RgbGrid(float[] pixels, int count, int height, int width, int columns, int padding, int scale, int w, int h)
    {
        var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var canvas = bitmap.GetPixelSpan();
        canvas.Fill(Border);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                canvas[y * bitmap.RowBytes + 4 * x + 3] = 255;
        int plane = height * width;
        for (int i = 0; i < count; i++)
        {
            var source = pixels.AsSpan(i * 3 * plane, 3 * plane);
            int left = padding + i % columns * (width * scale + padding), top = padding + i / columns * (height * scale + padding);
            for (int y = 0; y < height * scale; y++)
            {
                var row = canvas.Slice((top + y) * bitmap.RowBytes + 4 * left, 4 * width * scale);
                for (int x = 0; x < width * scale; x++)
                {
                    int at = y / scale * width + x / scale;
                    row[4 * x] = Gray(source[at]);
                    row[4 * x + 1] = Gray(source[plane + at]);
                    row[4 * x + 2] = Gray(source[2 * plane + at]);
                }
            }
        }
        return bitmap;
    }

    static byte Gray(float v) => float.IsNaN(v) ? (byte)0 : (byte)(Math.Clamp(v, 0f, 1f) * 255f + 0.5f);
}
