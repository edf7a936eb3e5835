using IlgpuVae.Images;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;
using SkiaSharp;

namespace IlgpuVae.Tests.Images;

public sealed class PngGridTests : IDisposable
{
    readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void SkiaSharpNativeLibraryLoads() => Assert.True(SkiaSharpVersion.CheckNativeLibraryCompatible());

    [Theory]
    [InlineData(64, 28, 28, 8, 2, 2, 466, 466)]
    [InlineData(16, 28, 28, 8, 2, 2, 466, 118)]
    [InlineData(3, 4, 5, 8, 1, 1, 19, 6)]      // fewer images than columns: the grid narrows
    [InlineData(0, 4, 5, 8, 1, 3, 17, 14)]     // no images: one empty cell
    [InlineData(7, 2, 3, 3, 0, 1, 9, 6)]
    public void GridSizeFollowsTheDocumentedFormula(int count, int h, int w, int columns, int padding, int scale, int width, int height) =>
        Assert.Equal((width, height), PngGrid.GridSize(count, h, w, columns, padding, scale));

    [Theory]
    [InlineData(64, 28, 28, 8, 2, 2)]
    [InlineData(5, 3, 7, 2, 0, 1)]
    [InlineData(1, 1, 1, 1, 5, 4)]
    [InlineData(0, 8, 8, 4, 2, 1)]
    public void WritesAPngOfTheComputedSize(int count, int h, int w, int columns, int padding, int scale)
    {
        string path = temp.File("grid.png");
        var pixels = Enumerable.Range(0, count * h * w).Select(i => i % 17 / 16f).ToArray();
        PngGrid.Write(path, pixels, count, h, w, columns, padding, scale);
        Assert.Equal(PngGrid.GridSize(count, h, w, columns, padding, scale), PngFile.Size(path));
        Assert.Equal(["grid.png"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void PlacesScalesAndClampsPixels()
    {
        // Three 2×3 images in two columns, padding 1, scale 2: cells are 6×4 at x = 1 and 8, y = 1 and 6.
        float[] ones = [1, 1, 1, 1, 1, 1], zeros = [0, 0, 0, 0, 0, 0], odd = [float.NaN, -5, 7, 0.5f, float.PositiveInfinity, 0.2f];
        string path = temp.File("grid.png");
        PngGrid.Write(path, [.. ones, .. zeros, .. odd], 3, 2, 3, 2, padding: 1, scale: 2);
        using var bitmap = PngFile.Decode(path);
        Assert.Equal((15, 11), (bitmap.Width, bitmap.Height));
        byte Gray(int x, int y)
        {
            var c = bitmap.GetPixel(x, y);
            Assert.True(c.Red == c.Green && c.Green == c.Blue, $"({x}, {y}) is not gray");
            return c.Red;
        }

        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 6; x++)
            {
                Assert.Equal(255, Gray(1 + x, 1 + y));
                Assert.Equal(0, Gray(8 + x, 1 + y));
            }
        byte[] expected = [0, 0, 255, 128, 255, 51]; // NaN → 0, clamped, 0.5 → 128, 0.2 → 51
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 6; x++)
                Assert.Equal(expected[y / 2 * 3 + x / 2], Gray(1 + x, 6 + y));
        foreach (var (x, y) in new[] { (0, 0), (7, 3), (14, 10), (5, 5), (3, 0) })
            Assert.Equal(PngGrid.Border, Gray(x, y));
        Assert.Equal(PngGrid.Border, Gray(10, 8)); // the unused fourth cell
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ColourImagesRoundTripThroughAnRgbPng(int scale)
    {
        // Five 3×4 RGB images, channel-major, in two columns: every value a whole byte / 255, so decoding gives it back.
        const int count = 5, h = 3, w = 4, columns = 2, padding = 1, plane = h * w;
        var random = new Random(3);
        var bytes = new byte[count * 3 * plane];
        random.NextBytes(bytes);
        float[] pixels = bytes.Select(b => b / 255f).ToArray();
        string path = temp.File("rgb.png");

        PngGrid.Write(path, pixels, count, h, w, columns, padding, scale, channels: 3);

        using var bitmap = PngFile.Decode(path);
        Assert.Equal(PngGrid.GridSize(count, h, w, columns, padding, scale), (bitmap.Width, bitmap.Height));
        Assert.Equal(SKAlphaType.Opaque, bitmap.AlphaType);
        for (int i = 0; i < count; i++)
        {
            int left = padding + i % columns * (w * scale + padding), top = padding + i / columns * (h * scale + padding);
            for (int y = 0; y < h * scale; y++)
                for (int x = 0; x < w * scale; x++)
                {
                    int at = i * 3 * plane + y / scale * w + x / scale;
                    var expected = new SKColor(bytes[at], bytes[at + plane], bytes[at + 2 * plane]);
                    Assert.Equal(expected, bitmap.GetPixel(left + x, top + y));
                }
        }
        var border = new SKColor(PngGrid.Border, PngGrid.Border, PngGrid.Border);
        Assert.Equal(border, bitmap.GetPixel(0, 0));
        Assert.Equal(border, bitmap.GetPixel(bitmap.Width - 1, bitmap.Height - 1)); // the unused sixth cell
    }

    [Fact]
    public void GreyAndColourGridsOfTheSameGreyImagesLookTheSame()
    {
        float[] grey = Enumerable.Range(0, 2 * 6).Select(i => i / 11f).ToArray();
        float[] colour = [.. grey[..6], .. grey[..6], .. grey[..6], .. grey[6..], .. grey[6..], .. grey[6..]];
        string greyPath = temp.File("grey.png"), colourPath = temp.File("colour.png");

        PngGrid.Write(greyPath, grey, 2, 2, 3, 2, padding: 1);
        PngGrid.Write(colourPath, colour, 2, 2, 3, 2, padding: 1, channels: 3);

        using var a = PngFile.Decode(greyPath);
        using var b = PngFile.Decode(colourPath);
        Assert.Equal(SKColorType.Gray8, a.ColorType);
        Assert.Equal(a.Pixels, b.Pixels);
    }

    [Fact]
    public void RefusesBadArgumentsAndWritesNothing()
    {
        string path = temp.File("grid.png");
        Assert.Throws<ArgumentException>(() => PngGrid.Write(path, new float[10], 2, 2, 3, 2));
        Assert.Throws<ArgumentException>(() => PngGrid.Write(path, new float[12], 2, 2, 3, 0));
        Assert.Throws<ArgumentException>(() => PngGrid.Write(path, new float[12], 2, 2, 3, 2, scale: 0));
        Assert.Throws<ArgumentException>(() => PngGrid.GridSize(1, 100_000, 100_000, 1, 0, 1));
        Assert.Contains("got 2", Assert.Throws<ArgumentException>(() => PngGrid.Write(path, new float[24], 2, 2, 3, 2, channels: 2)).Message);
        Assert.Contains("need 36", Assert.Throws<ArgumentException>(() => PngGrid.Write(path, new float[24], 2, 2, 3, 2, channels: 3)).Message);
        Assert.Empty(Directory.GetFiles(temp.Path));
    }
}
