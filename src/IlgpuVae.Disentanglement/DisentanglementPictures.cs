using System.Globalization;
using IlgpuVae.Images;

namespace IlgpuVae.Disentanglement;

/// <summary>
/// The pictures of <c>eval --disentanglement</c>: the mutual information matrix I(zᵢ; vⱼ) as a heat map
/// (<see cref="MiChart"/>), and per latent dimension a traversal (<c>traversal_zI.png</c>) — that coordinate swept from −3
/// to 3 with the others at 0, decoded — titled with the factor the dimension carries most information about and how much.
/// </summary>
public static class DisentanglementPictures
{
    /// <summary>The heat map's file name.</summary>
    public const string MiChart = "factor_mi.png";

    /// <summary>A traversal's file name.</summary>
    public static string TraversalFile(int dimension) => $"traversal_z{dimension}.png";

    /// <summary>Writes the heat map and the traversals into <paramref name="folder"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Write(string folder, Vae vae, DisentanglementResult result, int steps = 11)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(result);
        int k = vae.LatentDim;
        var written = new List<string>();
        string chart = Path.Combine(folder, MiChart);
        Plots.Heatmap(chart, result.MutualInformation, Enumerable.Range(0, k).Select(i => $"z{i}").ToArray(), [.. result.FactorNames],
            "Mutual information between latent dimensions and factors", "nats");
        written.Add(chart);
        var best = result.BestFactors();
        var image = vae.Image;
        for (int j = 0; j < k; j++)
        {
            var z = new float[steps * k];
            for (int s = 0; s < steps; s++) z[s * k + j] = -3f + 6f * s / (steps - 1);
            var pixels = vae.Decode(z);
            var strip = new double[image.Height, steps * image.Width];
            int plane = image.Height * image.Width;
            for (int s = 0; s < steps; s++)
                for (int y = 0; y < image.Height; y++)
                    for (int x = 0; x < image.Width; x++)
                    {
                        // Colour images are shown by their mean over the channels: the strip is about shape, not colour.
                        double sum = 0;
                        for (int c = 0; c < image.Channels; c++) sum += pixels[s * image.Size + c * plane + y * image.Width + x];
                        strip[y, s * image.Width + x] = sum / image.Channels;
                    }
            var (factor, nats) = best[j];
            string title = factor < 0 ? $"z{j}: no factor (MI 0)"
                : $"z{j}: {result.FactorNames[factor]}, MI {nats.ToString("F3", CultureInfo.InvariantCulture)} nats";
            string path = Path.Combine(folder, TraversalFile(j));
            Plots.GreyImage(path, strip, title);
            written.Add(path);
        }
        return written;
    }
}
