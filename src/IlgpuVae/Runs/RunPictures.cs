using IlgpuVae.Data;
using IlgpuVae.Images;
using IlgpuVae.Kernels;
using IlgpuVae.Metrics;
using IlgpuVae.Model;

namespace IlgpuVae.Runs;

/// <summary>
/// The pictures of a run: samples from the prior, reconstructions, interpolations between test images,
/// latent traversals, the loss curves and a latent scatter coloured by label. Deterministic from the seed.
/// </summary>
internal static class RunPictures
{
    public const string Samples = "samples.png", Reconstructions = "reconstructions.png",
        Interpolation = "interpolation.png", Traversals = "traversals.png", LossCurve = "loss_curve.png",
        LatentScatter = "latent_scatter.png";

    const int Columns = 8;

    /// <summary>
    /// The end-of-training pictures of the run folder (not the KL chart, written with each evaluation, nor
    /// <c>sample</c>'s traversals), from the model as it is now; returns the names of those written.
    /// </summary>
    public static IReadOnlyList<string> WriteAll(RunFolder folder, VaeModel model, ImageSet test, ulong seed, ITrainingObserver? observer = null)
    {
        var written = new List<string> { Samples, Reconstructions };
        WriteSamples(folder.File(Samples), model, new ImageShape(test.Channels, test.Height, test.Width), seed);
        WriteReconstructions(folder.File(Reconstructions), model, test, seed);
        if (WriteInterpolation(folder.File(Interpolation), model, test, seed))
            written.Add(Interpolation);
        else
            observer?.Info(NoInterpolation(test.Count));
        WriteLatentScatter(folder.File(LatentScatter), model, test);
        written.AddRange([LatentScatter, LossCurve]);
        var metrics = folder.ReadMetrics().Select(r => (IReadOnlyDictionary<string, double>)r
            .Where(kv => kv.Value.ValueKind == System.Text.Json.JsonValueKind.Number)
            .ToDictionary(kv => kv.Key, kv => kv.Value.GetDouble())).ToList();
        WriteLossCurve(folder.File(LossCurve), metrics);
        return written;
    }

    /// <summary>64 images decoded from z ~ N(0, I).</summary>
    public static void WriteSamples(string path, VaeModel model, ImageShape image, ulong seed, int count = 64)
    {
        var z = HostNormal(seed, count * model.Spec.LatentDim);
        Write(path, VaeInference.Decode(model, z, count, seed), count, image, Columns);
    }

    static void Write(string path, float[] pixels, int count, ImageShape image, int columns) =>
        PngGrid.Write(path, pixels, count, image.Height, image.Width, columns, scale: 2, channels: image.Channels);

    static ImageShape Shape(ImageSet set) => new(set.Channels, set.Height, set.Width);

    /// <summary>Rows of test images, each followed by a row of their reconstructions from the code at ε = 0 (z = μ without a flow).</summary>
    public static void WriteReconstructions(string path, VaeModel model, ImageSet test, ulong seed, int pairsOfRows = 4)
    {
        int n = Math.Min(pairsOfRows * Columns, test.Count), d = test.Dim;
        var (_, _, codes) = VaeInference.Encode(model, test.Pixels, n);
        var recon = VaeInference.Decode(model, codes, n, seed);
        int cells = 2 * Columns * ((n + Columns - 1) / Columns); // a short last row stays black
        var grid = new float[cells * d];
        for (int i = 0; i < n; i++)
        {
            int row = i / Columns, col = i % Columns;
            Array.Copy(test.Pixels, i * d, grid, ((2 * row) * Columns + col) * d, d);
            Array.Copy(recon, i * d, grid, ((2 * row + 1) * Columns + col) * d, d);
        }
        Write(path, grid, cells, Shape(test), Columns);
    }

    /// <summary>Why there is no interpolation.png for a test set of <paramref name="count"/> images.</summary>
    public static string NoInterpolation(int count) =>
        $"No {Interpolation}: an interpolation runs between two test images, and the test set has {count}.";

    /// <summary>Each row walks in a straight line between the codes (at ε = 0) of two test images; false (nothing written) with fewer than two.</summary>
    public static bool WriteInterpolation(string path, VaeModel model, ImageSet test, ulong seed, int rows = 8, int steps = 10)
    {
        int k = model.Spec.LatentDim;
        rows = Math.Min(rows, test.Count / 2);
        if (rows == 0) return false;
        var (_, _, mu) = VaeInference.Encode(model, test.Pixels, 2 * rows);
        var z = new float[rows * steps * k];
        for (int r = 0; r < rows; r++)
            for (int s = 0; s < steps; s++)
            {
                float t = s / (float)(steps - 1);
                for (int j = 0; j < k; j++)
                    z[(r * steps + s) * k + j] = (1 - t) * mu[2 * r * k + j] + t * mu[(2 * r + 1) * k + j];
            }
        Write(path, VaeInference.Decode(model, z, rows * steps, seed), rows * steps, Shape(test), steps);
        return true;
    }

    /// <summary>One row per latent dimension: that coordinate swept from −3 to 3, the others at 0.</summary>
    public static void WriteTraversals(string path, VaeModel model, ImageShape image, ulong seed, int steps = 11, int maxDims = 32)
    {
        int k = model.Spec.LatentDim, dims = Math.Min(k, maxDims);
        var z = new float[dims * steps * k];
        for (int j = 0; j < dims; j++)
            for (int s = 0; s < steps; s++)
                z[(j * steps + s) * k + j] = -3f + 6f * s / (steps - 1);
        Write(path, VaeInference.Decode(model, z, dims * steps, seed), dims * steps, image, steps);
    }

    /// <summary>Train and test loss, and the test terms, per epoch.</summary>
    public static void WriteLossCurve(string path, IReadOnlyList<IReadOnlyDictionary<string, double>> epochs)
    {
        var x = epochs.Select(e => e[MetricKey.Epoch]).ToArray();
        (string, double[], double[]) Series(string key) => (key, x, epochs.Select(e => e.TryGetValue(key, out var v) ? v : double.NaN).ToArray());
        Plots.LossCurves(path, [Series(MetricKey.TrainLoss), Series(MetricKey.TestLoss), Series(MetricKey.TestNegElbo)],
            "Loss per epoch", "epoch", "nats per image");
    }

    /// <summary>
    /// The codes at ε = 0 of up to 2,000 test images — the posterior means for the Gaussian posterior, μ carried through
    /// the flow for an IAF — coloured by label, on the two dimensions whose codes vary most over the images (inactive
    /// ones would show a blob); the axes say which, with that variance.
    /// </summary>
    public static void WriteLatentScatter(string path, VaeModel model, ImageSet test, int maxPoints = 2000)
    {
        int n = Math.Min(maxPoints, test.Count), k = model.Spec.LatentDim;
        var (_, _, mu) = VaeInference.Encode(model, test.Pixels, n);
        var variance = Enumerable.Range(0, k).Select(j =>
        {
            double mean = 0, squares = 0;
            for (int i = 0; i < n; i++) mean += mu[i * k + j];
            mean /= Math.Max(1, n);
            for (int i = 0; i < n; i++) squares += (mu[i * k + j] - mean) * (mu[i * k + j] - mean);
            return squares / Math.Max(1, n - 1);
        }).ToArray();
        var top = Enumerable.Range(0, k).OrderByDescending(j => variance[j]).ThenBy(j => j).Take(2).ToArray();
        int x = top[0], y = top.Length > 1 ? top[1] : top[0];
        string Label(int j) => $"z[{j}] (variance of the codes {variance[j]:G3})";
        Plots.LatentScatter(path, mu, n, k, test.Labels.Take(n).ToArray(), test.LabelNames, xDim: x, yDim: y, xLabel: Label(x), yLabel: Label(y));
    }

    /// <summary>Prior draws z ~ N(0, I) on the host, the same for a seed on every machine.</summary>
    internal static float[] HostNormal(ulong seed, int count)
    {
        ulong key = CounterRng.Key(seed, RandomStreams.Pictures, 0);
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = CounterRng.Normal(key, i);
        return values;
    }
}
