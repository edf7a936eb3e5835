using IlgpuVae.Images;
using IlgpuVae.Tests.Data;
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

    [Fact]
    public void RefusesBadArgumentsAndWritesNothing()
    {
        string path = temp.File("grid.png");
        Assert.Throws<ArgumentException>(() => PngGrid.Write(path, new float[10], 2, 2, 3, 2));
        Assert.Throws<ArgumentException>(() => PngGrid.Write(path, new float[12], 2, 2, 3, 0));
        Assert.Throws<ArgumentException>(() => PngGrid.Write(path, new float[12], 2, 2, 3, 2, scale: 0));
        Assert.Throws<ArgumentException>(() => PngGrid.GridSize(1, 100_000, 100_000, 1, 0, 1));
        Assert.Empty(Directory.GetFiles(temp.Path));
    }
}
