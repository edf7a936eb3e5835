namespace IlgpuVae.Data;

/// <summary>
/// A set of images held on the host: <see cref="Count"/> images of <see cref="Channels"/>×<see cref="Height"/>×<see cref="Width"/>
/// values in [0, 1], stored as one <see cref="Pixels"/> array of Count×Dim values, image i at
/// <c>Pixels[i·Dim .. (i+1)·Dim)</c>. Within an image the layout is channel-major (NCHW): all H·W pixels of channel 0
/// row by row, then those of channel 1, and so on; grey-scale images have one channel, colour images three (R, G, B).
/// <see cref="Labels"/>[i] is the class of image i, or -1 when unknown.
/// <see cref="Factors"/>, when present, holds Count×F ground-truth generative factors (F =
/// <see cref="FactorNames"/>.Length), image i at <c>Factors[i·F .. (i+1)·F)</c>.
/// </summary>
public sealed class ImageSet
{
    /// <summary>
    /// Wraps the arrays without copying; throws <see cref="ArgumentException"/> when their lengths disagree.
    /// The images are counted from <paramref name="pixels"/>; without <paramref name="labels"/> every image is
    /// unlabelled (-1). <paramref name="channels"/> is 1 for grey-scale images (the default), 3 for RGB.
    /// </summary>
    public ImageSet(string name, int height, int width, float[] pixels, int[]? labels = null, string[]? labelNames = null,
        float[]? factors = null, string[]? factorNames = null, int channels = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        factorNames ??= [];
        long dim = (long)channels * height * width;
        if (pixels.Length == 0)
            throw new ArgumentException($"Image set '{name}' has no values: it needs at least one image of {ShapeText(channels, height, width)} ({dim} values).", nameof(pixels));
        if (pixels.Length % dim != 0)
            throw new ArgumentException(
                $"{pixels.Length} values do not make whole images of {ShapeText(channels, height, width)} ({dim} values each).", nameof(pixels));
        labels ??= Enumerable.Repeat(-1, (int)(pixels.Length / dim)).ToArray();
        if (labels.Length * dim != pixels.Length)
            throw new ArgumentException(
                $"{pixels.Length} pixels make {pixels.Length / dim} images of {ShapeText(channels, height, width)}, but {labels.Length} labels are given.", nameof(labels));
        if (factors is null ? factorNames.Length != 0 : factors.Length != (long)labels.Length * factorNames.Length)
            throw new ArgumentException(
                $"{factors?.Length ?? 0} factors do not make {labels.Length} rows of {factorNames.Length}.", nameof(factors));
        Name = name;
        Channels = channels;
        Height = height;
        Width = width;
        Pixels = pixels;
        Labels = labels;
        LabelNames = labelNames ?? [];
        Factors = factors;
        FactorNames = factorNames;
    }

    /// <summary>What the set is called in messages and in a run's config (sprites, fashion-mnist, a folder …).</summary>
    public string Name { get; }
    /// <summary>The number of images: <see cref="Pixels"/> holds Count·<see cref="Dim"/> values.</summary>
    public int Count => Labels.Length;
    /// <summary>Values per pixel: 1 for grey-scale, 3 for RGB.</summary>
    public int Channels { get; }
    /// <summary>Rows of pixels per image.</summary>
    public int Height { get; }
    /// <summary>Columns of pixels per image.</summary>
    public int Width { get; }
    /// <summary>Values per image, C·H·W.</summary>
    public int Dim => Channels * Height * Width;
    /// <summary>All images, <see cref="Count"/>·<see cref="Dim"/> values in [0, 1], each image channel-major.</summary>
    public float[] Pixels { get; }
    /// <summary>The class of each image, or -1 when unknown.</summary>
    public int[] Labels { get; }
    /// <summary>The name of each class, indexed by label; empty when the data has none.</summary>
    public string[] LabelNames { get; }
    /// <summary>Ground-truth generative factors, <see cref="Count"/>·F values (sprites: shape, scale, rotation, x, y); null when unknown.</summary>
    public float[]? Factors { get; }
    /// <summary>The names of the F factors in <see cref="Factors"/>.</summary>
    public string[] FactorNames { get; }

    /// <summary>The shape for messages: <c>H×W</c> for grey-scale images, <c>H×W×C</c> with the channel count named otherwise.</summary>
    public string Shape => ShapeText(Channels, Height, Width);

    internal static string ShapeText(int channels, int height, int width) =>
        channels == 1 ? $"{height}×{width}" : $"{height}×{width} with {channels} channels";

    /// <summary>A copy of images [start, start + count), named <c>Name[start:start+count]</c>, with the same channels.</summary>
    public ImageSet Slice(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Count - start);
        int f = FactorNames.Length;
        return new ImageSet($"{Name}[{start}:{start + count}]", Height, Width,
            Pixels.AsSpan(start * Dim, count * Dim).ToArray(),
            Labels.AsSpan(start, count).ToArray(),
            LabelNames,
            Factors?.AsSpan(start * f, count * f).ToArray(),
            FactorNames,
            Channels);
    }

    /// <summary>
    /// Throws <see cref="DataFormatException"/> at the first pixel that is NaN, infinite or outside [0, 1]
    /// (the Bernoulli likelihood takes pixels as probabilities), naming the set, the image, the channel (for
    /// images of more than one), the pixel and the value.
    /// </summary>
    public static void Validate(ImageSet set)
    {
        float[] pixels = set.Pixels;
        for (int i = 0; i < pixels.Length; i++)
        {
            // The negated form also catches NaN, for which every comparison is false.
            if (!(pixels[i] >= 0f && pixels[i] <= 1f))
            {
                int plane = set.Height * set.Width, offset = i % set.Dim;
                string where = set.Channels == 1
                    ? $"pixel {offset}"
                    : $"pixel {offset % plane} of channel {offset / plane}";
                throw new DataFormatException(
                    $"Data set '{set.Name}': image {i / set.Dim} has {where} = {pixels[i]}, " +
                    "outside [0, 1]. Pixels must be intensities scaled to [0, 1]; rescale the data (e.g. divide bytes by 255).");
            }
        }
    }
}
