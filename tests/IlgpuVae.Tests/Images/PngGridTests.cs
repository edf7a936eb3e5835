using IlgpuVae.Images;
using IlgpuVae.Tests.Data;
using SkiaSharp;

namespace IlgpuVae.Tests.Images;

/// <summary>Grids and plots decode as PNGs of the promised size, with the pixels where they belong.</summary>
public sealed class PngGridTests
{
    [Fact]
    public void GridHasTheDocumentedSizeAndPixels()
    {
        using var temp = new TempFolder();
        const int count = 5, h = 3, w = 4;
        var pixels = new float[count * h * w];
        Array.Fill(pixels, 1f, 0, h * w);                 // image 0 white
        Array.Fill(pixels, float.NaN, h * w, h * w);      // image 1 NaN → black
        string path = temp.File("g.png");
        PngGrid.Write(path, pixels, count, h, w, columns: 3, padding: 1, scale: 2);
        var (width, height) = PngGrid.GridSize(count, h, w, 3, 1, 2);
        Assert.Equal((3 * (w * 2 + 1) + 1, 2 * (h * 2 + 1) + 1), (width, height));
        using var bitmap = SKBitmap.Decode(path);
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        Assert.Equal(255, bitmap.GetPixel(1, 1).Red);          // inside image 0
        Assert.Equal(0, bitmap.GetPixel(1 + 9, 1).Red);        // inside image 1
        Assert.Equal(128, bitmap.GetPixel(0, 0).Red);          // the border
    }

    [Fact]
    public void PlotsDecodeAtTheRequestedSizeEvenWithNaNsOrNoData()
    {
        using var temp = new TempFolder();
        Plots.LossCurves(temp.File("l.png"), [("a", [1, 2, 3], [3, double.NaN, 1]), ("b", [], [])], "t", "x", "y", 640, 480);
        Plots.LatentScatter(temp.File("s.png"), [0.1f, 0.2f, float.NaN, 1f, -1f, 0.5f], 3, 2, [0, -1, 1], ["zero", "one"], 500, 400);
        Plots.Bars(temp.File("b.png"), ["z0", "z1"], [0.5, double.PositiveInfinity], "KL", "nats");
        Plots.LossCurves(temp.File("e.png"), [], "t", "x", "y", 300, 200);
        foreach (var (name, w, h) in new[] { ("l.png", 640, 480), ("s.png", 500, 400), ("b.png", 800, 450), ("e.png", 300, 200) })
        {
            using var bitmap = SKBitmap.Decode(temp.File(name));
            Assert.Equal((w, h), (bitmap.Width, bitmap.Height));
        }
    }
}
