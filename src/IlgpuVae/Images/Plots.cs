using IlgpuVae.IO;
using ScottPlot;

namespace IlgpuVae.Images;

/// <summary>
/// The run's charts, drawn with ScottPlot 5 and written atomically as PNG (a temporary file, then a rename).
/// Points with a NaN or infinite coordinate are left out; a chart with nothing left to draw says "no data"
/// instead of failing, so a diverged run still gets its pictures.
/// </summary>
internal static class Plots
{
    /// <summary>
    /// One line per series (x against y, paired by index), with a legend of the series' names. x counts epochs, so its
    /// ticks are whole numbers (no epoch 1.05).
    /// </summary>
    public static void LossCurves(string path, IReadOnlyList<(string Name, double[] X, double[] Y)> series,
        string title, string xLabel, string yLabel, int width = 800, int height = 500)
    {
        using var plot = LossCurvePlot(series);
        Save(plot, path, title, xLabel, yLabel, width, height);
    }

    /// <summary>The chart <see cref="LossCurves"/> draws, not yet labelled or saved.</summary>
    internal static Plot LossCurvePlot(IReadOnlyList<(string Name, double[] X, double[] Y)> series)
    {
        var plot = new Plot();
        foreach (var (name, x, y) in series)
        {
            var (xs, ys) = Finite(x.Zip(y));
            if (xs.Length > 0) plot.Add.Scatter(xs, ys).LegendText = name;
        }
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return plot;
    }

    /// <summary>
    /// Latent dimension 1 against dimension 0 of <paramref name="count"/> codes (row-major in <paramref name="z"/>,
    /// <paramref name="dim"/> per code; against 0 when dim is 1), one colour per label, the legend naming each
    /// label from <paramref name="labelNames"/> (its number when it has no name). Negative labels are one light grey
    /// series, "unlabelled".
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="z"/> or <paramref name="labels"/> is shorter than count needs.</exception>
    public static void LatentScatter(string path, float[] z, int count, int dim, int[] labels, string[] labelNames,
        int width = 700, int height = 600, int xDim = 0, int yDim = 1, string? xLabel = null, string? yLabel = null)
    {
        if (count > 0 && dim > 0 && (z.Length < (long)count * dim || labels.Length < count))
            throw new ArgumentException($"{count} codes of {dim} dimensions need {(long)count * dim} values and {count} labels; {z.Length} and {labels.Length} given.");
        using var plot = new Plot();
        int drawn = dim > 0 ? Math.Max(count, 0) : 0;
        foreach (var group in Enumerable.Range(0, drawn).GroupBy(i => Math.Max(labels[i], -1)).OrderBy(g => g.Key))
        {
            var (xs, ys) = Finite(group.Select(i => ((double)z[i * dim + xDim], dim > 1 ? z[i * dim + yDim] : 0.0)));
            if (xs.Length == 0) continue;
            // Colour by label value, not by order, so a label keeps its colour whichever labels are present.
            var points = plot.Add.ScatterPoints(xs, ys, group.Key < 0 ? Colors.LightGray : plot.Add.Palette.GetColor(group.Key));
            points.MarkerSize = 4;
            points.LegendText = group.Key < 0 ? "unlabelled" : group.Key < labelNames.Length ? labelNames[group.Key] : $"{group.Key}";
        }
        Save(plot, path, "Latent space", xLabel ?? $"z[{xDim}]", dim > 1 ? yLabel ?? $"z[{yDim}]" : "", width, height);
    }

    /// <summary>One bar per value at positions 0, 1, …, labelled by <paramref name="names"/> (or the index); non-finite values get no bar.</summary>
    public static void Bars(string path, string[] names, double[] values, string title, string yLabel, int width = 800, int height = 450)
    {
        using var plot = new Plot();
        var (positions, heights) = Finite(values.Select((v, i) => ((double)i, v)));
        if (positions.Length > 0)
        {
            plot.Add.Bars(positions, heights);
            plot.Axes.Bottom.SetTicks(
                values.Select((_, i) => (double)i).ToArray(),
                values.Select((_, i) => i < names.Length ? names[i] : $"{i}").ToArray());
        }
        Save(plot, path, title, "", yLabel, width, height);
    }

    /// <summary>
    /// A heat map of <paramref name="values"/> [rows, columns], row 0 at the top, with a colour bar; the rows' and columns'
    /// ticks named by <paramref name="rowNames"/> and <paramref name="columnNames"/>.
    /// </summary>
    public static void Heatmap(string path, double[,] values, string[] rowNames, string[] columnNames, string title, string colourLabel,
        int width = 700, int height = 600)
    {
        using var plot = new Plot();
        int rows = values.GetLength(0), columns = values.GetLength(1);
        if (rows > 0 && columns > 0)
        {
            var map = plot.Add.Heatmap(values);
            map.Colormap = new ScottPlot.Colormaps.Viridis();
            // ScottPlot spreads the cells' centres over the extent (checked on the picture): cell (r, c) centred on x = c,
            // y = rows − 1 − r, the first row on top, as the matrix is printed.
            map.Extent = new CoordinateRect(0, Math.Max(columns - 1, 0.5), 0, Math.Max(rows - 1, 0.5));
            plot.Add.ColorBar(map).Label = colourLabel;
            plot.Axes.Bottom.SetTicks(Enumerable.Range(0, columns).Select(c => (double)c).ToArray(), columnNames);
            plot.Axes.Left.SetTicks(Enumerable.Range(0, rows).Select(r => (double)(rows - 1 - r)).ToArray(), rowNames);
        }
        Save(plot, path, title, "", "", width, height);
    }

    /// <summary>Grey-scale pixels [height, width] in [0, 1] (0 black) as a picture with a title and no axes: a labelled strip of images.</summary>
    public static void GreyImage(string path, double[,] pixels, string title, int scale = 4)
    {
        using var plot = new Plot();
        var map = plot.Add.Heatmap(pixels);
        map.Colormap = new ScottPlot.Colormaps.Grayscale();
        map.ManualRange = new ScottPlot.Range(0, 1);
        plot.Axes.Frameless();
        plot.HideGrid();
        plot.Title(title);
        int width = pixels.GetLength(1) * scale, height = pixels.GetLength(0) * scale + 40;
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicWrite.Replace(path, stream => stream.Write(png));
    }

    /// <summary>The title, the axes' labels, the legend (when a series has a name) or "no data".</summary>
    internal static void Label(Plot plot, string title, string xLabel, string yLabel)
    {
        if (!plot.GetPlottables().Any()) plot.Add.Annotation("no data", Alignment.MiddleCenter);
        // Beside the data, not over it: inside, the legend covered the last epochs' points.
        else if (plot.GetPlottables().OfType<IHasLegendText>().Any(p => !string.IsNullOrEmpty(p.LegendText))) plot.ShowLegend(Edge.Right);
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
    }

    static (double[] X, double[] Y) Finite(IEnumerable<(double X, double Y)> points)
    {
        var kept = points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToArray();
        return (kept.Select(p => p.X).ToArray(), kept.Select(p => p.Y).ToArray());
    }

    static void Save(Plot plot, string path, string title, string xLabel, string yLabel, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        Label(plot, title, xLabel, yLabel);
        // GetImageBytes defaults to BMP in ScottPlot 5.1, so the format is named.
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicWrite.Replace(path, stream => stream.Write(png));
    }
}
