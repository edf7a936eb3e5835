using IlgpuVae.Data;

namespace IlgpuVae.Disentanglement;

/// <summary>
/// Where the metrics' points come from: random images with their factors (as class indices), and images that share a
/// given value of one factor — disentanglement_lib's ground-truth data set.
/// </summary>
internal abstract class GroundTruth
{
    /// <summary>The factors' names.</summary>
    public abstract IReadOnlyList<string> FactorNames { get; }

    /// <summary>The number of classes of each factor.</summary>
    public abstract int[] Classes { get; }

    /// <summary>Values per image.</summary>
    public abstract int ImageDim { get; }

    /// <summary>The images a finite set holds (the most points <see cref="Points"/> gives); null for a generator.</summary>
    public abstract int? FiniteCount { get; }

    /// <summary><paramref name="count"/> random images: factors (count × F) and pixels (count × <see cref="ImageDim"/>).</summary>
    public abstract (int[] Factors, float[] Pixels) Sample(int count, SeededDraws draws);

    /// <summary>One random image per entry of <paramref name="values"/> whose factor <paramref name="factor"/> has that value; the other factors random.</summary>
    public abstract (int[] Factors, float[] Pixels) SampleSharing(int[] values, int factor, SeededDraws draws);

    /// <summary><paramref name="count"/> points for the metrics that work on codes (MIG, DCI, SAP, modularity), none repeated in a finite set.</summary>
    public abstract (int[] Factors, float[] Pixels) Points(int count, SeededDraws draws);
}

/// <summary>
/// The sprites generator (<see cref="Sprites"/>): factors drawn uniformly from their grids and rendered, so any number
/// of points and any combination — a batch holding one factor fixed is rendered with that value.
/// </summary>
internal sealed class SpritesTruth(int size) : GroundTruth
{
    public override IReadOnlyList<string> FactorNames => Sprites.FactorNames;
    public override int[] Classes { get; } = [.. Sprites.FactorClassCounts];
    public override int ImageDim => size * size;
    public override int? FiniteCount => null;

    public override (int[] Factors, float[] Pixels) Sample(int count, SeededDraws draws)
    {
        var factors = new int[count * Classes.Length];
        for (int i = 0; i < factors.Length; i++) factors[i] = draws.Next(Classes[i % Classes.Length]);
        return (factors, Sprites.Render(factors, size));
    }

    public override (int[] Factors, float[] Pixels) SampleSharing(int[] values, int factor, SeededDraws draws)
    {
        int f = Classes.Length;
        var factors = new int[values.Length * f];
        for (int i = 0; i < factors.Length; i++) factors[i] = draws.Next(Classes[i % f]);
        for (int r = 0; r < values.Length; r++) factors[r * f + factor] = values[r];
        return (factors, Sprites.Render(factors, size));
    }

    public override (int[] Factors, float[] Pixels) Points(int count, SeededDraws draws) => Sample(count, draws);
}

/// <summary>
/// A set of images with factors (a factors file, or generated sprites as they were evaluated): each factor's distinct
/// values, in increasing order, are its classes. Random images are drawn uniformly (with repetition) from the set; an
/// image sharing a value is drawn uniformly among the images that have it; the points for the metrics that train on
/// codes are a seeded permutation's first images, so training and test points never repeat.
/// </summary>
internal sealed class ImageSetTruth : GroundTruth
{
    readonly ImageSet set;
    readonly int[] factors;
    readonly int[][][] byValue;

    public ImageSetTruth(ImageSet set)
    {
        if (set.Factors is null || set.FactorNames.Length == 0)
            throw new ArgumentException($"Data set '{set.Name}' has no factors.");
        this.set = set;
        int f = set.FactorNames.Length, n = set.Count;
        factors = new int[n * f];
        Classes = new int[f];
        byValue = new int[f][][];
        for (int j = 0; j < f; j++)
        {
            var values = Enumerable.Range(0, n).Select(i => set.Factors[i * f + j]).Distinct().Order().ToArray();
            var index = values.Select((v, c) => (v, c)).ToDictionary(p => p.v, p => p.c);
            Classes[j] = values.Length;
            for (int i = 0; i < n; i++) factors[i * f + j] = index[set.Factors[i * f + j]];
            byValue[j] = Enumerable.Range(0, values.Length).Select(c => Enumerable.Range(0, n).Where(i => factors[i * f + j] == c).ToArray()).ToArray();
        }
    }

    public override IReadOnlyList<string> FactorNames => set.FactorNames;
    public override int[] Classes { get; }
    public override int ImageDim => set.Dim;
    public override int? FiniteCount => set.Count;

    public override (int[] Factors, float[] Pixels) Sample(int count, SeededDraws draws) =>
        Gather(Enumerable.Range(0, count).Select(_ => draws.Next(set.Count)).ToArray());

    public override (int[] Factors, float[] Pixels) SampleSharing(int[] values, int factor, SeededDraws draws) =>
        Gather(values.Select(v =>
        {
            var images = byValue[factor][v];
            return images[draws.Next(images.Length)];
        }).ToArray());

    public override (int[] Factors, float[] Pixels) Points(int count, SeededDraws draws) =>
        Gather(draws.Permutation(set.Count)[..count]);

    (int[] Factors, float[] Pixels) Gather(int[] images)
    {
        int f = Classes.Length, d = set.Dim;
        var rows = new int[images.Length * f];
        var pixels = new float[images.Length * d];
        for (int r = 0; r < images.Length; r++)
        {
            Array.Copy(factors, images[r] * f, rows, r * f, f);
            Array.Copy(set.Pixels, (long)images[r] * d, pixels, (long)r * d, d);
        }
        return (rows, pixels);
    }
}
