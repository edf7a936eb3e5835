using IlgpuVae.Runs;
using ScottPlot;

namespace IlgpuVae.Images;

/// <summary>The run's charts, drawn with ScottPlot and written atomically as PNG. Non-finite values are left out.</summary>
public static class Plots
{
    /// <summary>One line per series, with a legend.</summary>
    public static void LossCurves(string path, IReadOnlyList<(string Name, double[] X, double[] Y)> series,
        string title, string xLabel, string yLabel, int width = 800, int height = 500)
    {
        var plot = new Plot();
        foreach (var (name, x, y) in series)
        {
            var points = x.Zip(y).Where(p => double.IsFinite(p.First) && double.IsFinite(p.Second)).ToArray();
            if (points.Length == 0) continue;
            var line = plot.Add.Scatter(points.Select(p => p.First).ToArray(), points.Select(p => p.Second).ToArray());
            line.LegendText = name;
        }
        Finish(plot, path, title, xLabel, yLabel, width, height);
    }

    /// <summary>Latent dimensions 0 and 1 of <paramref name="count"/> codes (dimension 0 against 0 when there is one), one colour per label.</summary>
    public static void LatentScatter(string path, float[] z, int count, int dim, int[] labels, string[] labelNames,
        int width = 700, int height = 600)
    {
        var plot = new Plot();
        foreach (var group in Enumerable.Range(0, count).GroupBy(i => labels[i]).OrderBy(g => g.Key))
        {
            var points = group.Select(i => (X: (double)z[i * dim], Y: dim > 1 ? (double)z[i * dim + 1] : 0.0))
                .Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToArray();
            if (points.Length == 0) continue;
            var scatter = plot.Add.ScatterPoints(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
            scatter.MarkerSize = 4;
            scatter.LegendText = group.Key < 0 ? "unlabelled" : group.Key < labelNames.Length ? labelNames[group.Key] : $"{group.Key}";
            if (group.Key < 0) scatter.Color = Colors.Gray;
        }
        Finish(plot, path, "Posterior means", "z[0]", dim > 1 ? "z[1]" : "", width, height);
    }

    /// <summary>A bar per value, named underneath.</summary>
    public static void Bars(string path, string[] names, double[] values, string title, string yLabel, int width = 800, int height = 450)
    {
        var plot = new Plot();
        var finite = values.Select(v => double.IsFinite(v) ? v : 0).ToArray();
        if (finite.Length > 0)
        {
            plot.Add.Bars(finite);
            plot.Axes.Bottom.SetTicks(Enumerable.Range(0, names.Length).Select(i => (double)i).ToArray(), names);
        }
        Finish(plot, path, title, "", yLabel, width, height);
    }

    static void Finish(Plot plot, string path, string title, string xLabel, string yLabel, int width, int height)
    {
        if (plot.GetPlottables().Count() == 0)
            plot.Add.Annotation("no data");
        else if (plot.GetPlottables().Any(p => !string.IsNullOrEmpty((p as IHasLegendText)?.LegendText)))
            plot.ShowLegend();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        AtomicFile.Write(path, tmp => plot.SavePng(tmp, width, height));
        // ScottPlot keeps no handle on the file; nothing to dispose.
    }
}
