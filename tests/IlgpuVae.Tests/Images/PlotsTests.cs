using IlgpuVae.Images;
using IlgpuVae.Tests.Data;
using IlgpuVae.Tests.Infrastructure;

namespace IlgpuVae.Tests.Images;

public sealed class PlotsTests : IDisposable
{
    readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void LossCurvesDecodeAtTheRequestedSize()
    {
        double[] epochs = [1, 2, 3, 4];
        string path = temp.File("loss.png");
        Plots.LossCurves(path, [("train", epochs, [300, 200, 150, 140]), ("test", epochs, [310, 215, double.NaN, 150])],
            "Loss", "epoch", "nats");
        Assert.Equal((800, 500), PngFile.Size(path));
        Plots.LossCurves(path, [("train", epochs, [3, 2, 1, 0.5])], "Loss", "epoch", "nats", 640, 360);
        Assert.Equal((640, 360), PngFile.Size(path));
        Assert.Equal(["loss.png"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(20)]
    public void EpochTicksAreWholeNumbersAndTheLegendIsBesideTheData(int count)
    {
        double[] epochs = Enumerable.Range(1, count).Select(e => (double)e).ToArray();
        string path = temp.File("loss.png");
        Plots.LossCurves(path, [("train", epochs, epochs.Select(e => 300 / e).ToArray())], "Loss", "epoch", "nats");
        using var plot = Plots.LossCurvePlot([("train", epochs, epochs.Select(e => 300 / e).ToArray())]);
        Plots.Label(plot, "Loss", "epoch", "nats");
        plot.GetImageBytes(800, 500, ScottPlot.ImageFormat.Png); // lays the ticks out
        var ticks = plot.Axes.Bottom.TickGenerator.Ticks.Where(t => t.IsMajor).Select(t => t.Position).ToArray();
        Assert.NotEmpty(ticks);
        Assert.All(ticks, t => Assert.Equal(Math.Round(t), t));
        Assert.False(plot.Legend.IsVisible); // not drawn over the data, but in a panel beside it
    }

    [Theory]
    [InlineData(2)]
    [InlineData(1)]
    [InlineData(5)]
    public void LatentScatterDecodesAtTheRequestedSize(int dim)
    {
        var random = new Random(7);
        int count = 300;
        var z = Enumerable.Range(0, count * dim).Select(_ => (float)random.NextDouble() * 4 - 2).ToArray();
        var labels = Enumerable.Range(0, count).Select(i => i % 12 - 1).ToArray(); // −1 and labels without names
        string path = temp.File("latent.png");
        Plots.LatentScatter(path, z, count, dim, labels, ["zero", "one", "two"]);
        Assert.Equal((700, 600), PngFile.Size(path));
        Plots.LatentScatter(path, z, count, dim, labels, [], 400, 300);
        Assert.Equal((400, 300), PngFile.Size(path));
    }

    [Fact]
    public void BarsDecodeAtTheirSize()
    {
        string path = temp.File("kl.png");
        Plots.Bars(path, ["z0", "z1", "z2"], [0.1, 2.5, double.PositiveInfinity], "KL per dimension", "nats");
        Assert.Equal((800, 450), PngFile.Size(path));
        Plots.Bars(path, ["z0"], [1, 2, 3, 4], "KL per dimension", "nats", 500, 250);
        Assert.Equal((500, 250), PngFile.Size(path));
    }

    [Fact]
    public void NonFiniteAndEmptyInputsStillGivePlots()
    {
        double[] nan = [double.NaN, double.NaN];
        string a = temp.File("a.png"), b = temp.File("b.png"), c = temp.File("c.png"), d = temp.File("d.png"), e = temp.File("e.png");
        Plots.LossCurves(a, [("train", [1, 2], nan), ("test", [double.PositiveInfinity, 1], [1, double.NegativeInfinity])], "Loss", "epoch", "nats");
        Plots.LossCurves(b, [], "", "", "");
        Plots.LatentScatter(c, [float.NaN, float.NaN, float.PositiveInfinity, 1], 2, 2, [0, -1], ["zero"]);
        Plots.LatentScatter(d, [], 0, 2, [], []);
        Plots.Bars(e, [], [], "KL", "nats");
        Plots.Bars(e, ["z0"], nan, "KL", "nats");
        Assert.Equal((800, 500), PngFile.Size(a));
        Assert.Equal((800, 500), PngFile.Size(b));
        Assert.Equal((700, 600), PngFile.Size(c));
        Assert.Equal((700, 600), PngFile.Size(d));
        Assert.Equal((800, 450), PngFile.Size(e));
    }
}
