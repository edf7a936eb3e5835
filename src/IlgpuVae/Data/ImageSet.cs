namespace IlgpuVae.Data;

/// <summary>
/// A set of grey-scale images held on the host: <see cref="Count"/> images of <see cref="Height"/>×<see cref="Width"/>
/// pixels, stored row-major as one <see cref="Pixels"/> array of Count×Dim values in [0, 1], image i at
/// <c>Pixels[i·Dim .. (i+1)·Dim)</c>. <see cref="Labels"/>[i] is the class of image i, or -1 when unknown.
/// <see cref="Factors"/>, when present, holds Count×F ground-truth generative factors (F =
/// <see cref="FactorNames"/>.Length), image i at <c>Factors[i·F .. (i+1)·F)</c>.
/// </summary>
public sealed class ImageSet
{
    /// <summary>Wraps the arrays without copying; throws <see cref="ArgumentException"/> when their lengths disagree.</summary>
    public ImageSet(string name, int height, int width, float[] pixels, int[] labels, string[] labelNames,
        float[]? factors = null, string[]? factorNames = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        factorNames ??= [];
        if ((long)labels.Length * height * width != pixels.Length)
            throw new ArgumentException(
                $"{pixels.Length} pixels do not make {labels.Length} images of {height}×{width}.", nameof(pixels));
        if (factors is null ? factorNames.Length != 0 : factors.Length != (long)labels.Length * factorNames.Length)
            throw new ArgumentException(
                $"{factors?.Length ?? 0} factors do not make {labels.Length} rows of {factorNames.Length}.", nameof(factors));
        Name = name;
        Height = height;
        Width = width;
        Pixels = pixels;
        Labels = labels;
        LabelNames = labelNames;
        Factors = factors;
        FactorNames = factorNames;
    }

    public string Name { get; }
    public int Count => Labels.Length;
    public int Height { get; }
    public int Width { get; }
    /// <summary>Pixels per image, H·W.</summary>
    public int Dim => Height * Width;
    public float[] Pixels { get; }
    public int[] Labels { get; }
    public string[] LabelNames { get; }
    public float[]? Factors { get; }
    public string[] FactorNames { get; }

    /// <summary>A copy of images [start, start + count), named <c>Name[start:start+count]</c>.</summary>
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
            FactorNames);
    }

    /// <summary>
    /// Throws <see cref="DataFormatException"/> at the first pixel that is NaN, infinite or outside [0, 1]
    /// (the Bernoulli likelihood takes pixels as probabilities), naming the set, the image and the value.
    /// </summary>
    public static void Validate(ImageSet set)
    {
        float[] pixels = set.Pixels;
        for (int i = 0; i < pixels.Length; i++)
        {
            // The negated form also catches NaN, for which every comparison is false.
            if (!(pixels[i] >= 0f && pixels[i] <= 1f))
                throw new DataFormatException(
                    $"Data set '{set.Name}': image {i / set.Dim} has pixel {i % set.Dim} = {pixels[i]}, " +
                    "outside [0, 1]. Pixels must be intensities scaled to [0, 1]; rescale the data (e.g. divide bytes by 255).");
        }
    }
}
